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
}

/** A handler method. */
export type IntelligenceHandlerFn = (event: IntelligenceEvent, ctx: DispatchContext) => unknown;
