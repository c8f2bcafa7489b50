import type { EventBus } from '../bus/event-bus.js';
import { MessageTracing } from '../tracing/message-tracing.js';
import type { TraceParent } from '../tracing/message-trace.interface.js';
import { createEnvelope, toOutgoing } from '../wire/envelope.js';
import type { IntelligenceEvent } from '../wire/intelligence-event.interface.js';
import type { DatabaseTransaction } from '../database/database-transaction.js';
import type {
  DispatchContext,
  PublishOptions,
  TransactionRunner,
} from './dispatch-context.interface.js';

/** `ctx.transaction()` in an app without the `database` option. */
export class NoDatabaseError extends Error {
  override readonly name = 'NoDatabaseError';
  constructor() {
    super('ctx.transaction() needs a database: set the `database` option of IntelligenceModule');
  }
}

/**
 * The context a handler receives: publishes its outputs correlated with the event, each under a
 * producer span that is a child of the dispatch's consumer span (`parent`).
 */
export class HandlerContext implements DispatchContext {
  private controller: AbortController | undefined;

  constructor(
    readonly handler: string,
    readonly attempt: number,
    private readonly event: IntelligenceEvent,
    private readonly bus: EventBus,
    private readonly source: string,
    private readonly mapTopic: (topic: string) => string,
    private readonly transactions?: TransactionRunner,
    private readonly tracing: MessageTracing = MessageTracing.disabled,
    private readonly parent?: TraceParent,
  ) {}

  transaction<T>(fn: (tx: DatabaseTransaction) => Promise<T>): Promise<T> {
    if (!this.transactions) return Promise.reject(new NoDatabaseError());
    return this.transactions(fn);
  }

  /** Made on first use: most handlers never look at it. */
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  /** Aborts `signal` (the handler timed out or was abandoned at the drain deadline). */
  abort(reason: Error): void {
    this.controller?.abort(reason);
  }

  async publish(given: string, payload: unknown, options: PublishOptions = {}): Promise<void> {
    const topic = this.mapTopic(given);
    const envelope = createEnvelope({
      topic,
      payload,
      correlationId: this.event.correlationId,
      causationId: this.event.envelopeId,
      source: this.source,
      ...(options.eventType === undefined ? {} : { eventType: options.eventType }),
    });
    const message = toOutgoing(envelope, options.key);
    const trace = this.tracing.injectPublish(topic, message.headers ?? {}, this.parent);
    message.headers = trace.headers;
    try {
      await this.bus.publish(topic, message);
    } catch (error) {
      trace.end(error);
      throw error;
    }
    trace.end();
  }
}
