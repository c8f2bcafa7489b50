import type { DatabaseTransaction } from '../database/database-transaction.js';
import type { IntelligenceEvent } from '../wire/intelligence-event.interface.js';

export interface PublishOptions {
  /** Envelope `event_type`. @default the topic's event-name segment */
  eventType?: string;
  /** Partition key. @default the correlation id */
  key?: string;
}

/** What a handler can do besides computing: publish its outputs, correlated. */
export interface DispatchContext {
  /** Publishes `payload` with the incoming correlation id; causation is the incoming envelope. */
  publish(topic: string, payload: unknown, options?: PublishOptions): Promise<void>;
  /** Delivery attempt of this message, from 1. */
  attempt: number;
  /** Name of the handler running (`Class.method`). */
  handler: string;
  /**
   * Aborted when the module gives up on this handler: it ran past `dispatch.handlerTimeoutMs`
   * (the message is retried) or the shutdown drain deadline passed. Pass it to I/O that
   * accepts one, so abandoned work stops.
   */
  readonly signal: AbortSignal;
  /**
   * Runs `fn` in one transaction on the module's database (the `database` option): COMMIT
   * when it resolves, ROLLBACK when it throws. A handler with an `idempotencyKey` has its key
   * recorded in the same transaction, so its writes and the record land together or not at
   * all; when another delivery of the message recorded it first, the transaction rolls back
   * and the run counts as a skipped duplicate. Throws without a `database` option.
   */
  transaction<T>(fn: (tx: DatabaseTransaction) => Promise<T>): Promise<T>;
}

/** Runs `fn` in one database transaction (commit when it resolves, roll back when it throws). */
export type TransactionRunner = <T>(fn: (tx: DatabaseTransaction) => Promise<T>) => Promise<T>;

/** A handler method. */
export type IntelligenceHandlerFn = (event: IntelligenceEvent, ctx: DispatchContext) => unknown;
