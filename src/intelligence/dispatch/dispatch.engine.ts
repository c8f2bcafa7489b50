import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BusMessage } from '../bus/bus-message.interface.js';
import type { EventBus } from '../bus/event-bus.js';
import { INTELLIGENCE_CONFIG, type IntelligenceConfig } from '../intelligence.config.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import {
  DispatchMetrics,
  type DispatchMetricsSnapshot,
  type LatencyListener,
} from './dispatch.metrics.js';
import {
  PermanentHandlerError,
  type DispatchOutcome,
  type HandlerFailure,
} from '../delivery/dispatch-outcome.interface.js';
import { HEADERS } from '../wire/envelope.js';
import { decodeMessage } from '../wire/envelope.codec.js';
import { HandlerContext } from './handler-context.js';
import type { HandlerDefinition } from './handler-definition.interface.js';
import type { Dispatcher } from '../delivery/dispatcher.js';
import { DeliveryAbandonedError, HandlerWatch } from '../delivery/handler-watch.js';
import { InFlightHandlers } from '../delivery/in-flight-handlers.js';
import { IdempotencyWindow } from '../delivery/idempotency-window.js';
import type { IntelligenceEvent } from '../wire/intelligence-event.interface.js';
import { publishOperationCompleted, publishOperationStarted } from './operation-events.js';
import { RouteTable } from './route-table.js';

/** `dispatch()` before the engine was loaded, or a second `load()`. */
export class DispatchEngineStateError extends Error {
  override readonly name = 'DispatchEngineStateError';
}

const NO_SUCCESSES: ReadonlySet<string> = new Set();

/**
 * Routes each message to its handlers: decode once, match by exact topic then event type,
 * run every matching handler once (fan-out), collect failures. The route table is frozen when
 * loaded; `reset()` clears it for the next wiring.
 */
@Injectable()
export class DispatchEngine implements Dispatcher {
  private table: RouteTable | undefined;
  private bus: EventBus | undefined;
  private readonly counters = new DispatchMetrics();
  private readonly inFlight = new InFlightHandlers();
  private readonly seen = new IdempotencyWindow();
  private readonly logger = new Logger('DispatchEngine');
  private readonly watch: HandlerWatch;

  constructor(
    @Inject(INTELLIGENCE_CONFIG) private readonly config: IntelligenceConfig,
    @Inject(LogSanitizer) private readonly sanitizer: LogSanitizer,
  ) {
    const timeoutMs = config.dispatch.handlerTimeoutMs;
    this.watch = new HandlerWatch(timeoutMs, (handler, topic) => {
      this.logger.warn({
        msg: 'Handler timed out; retried as a transient failure',
        handler,
        topic,
        timeoutMs,
      });
    });
  }

  get loaded(): boolean {
    return this.table !== undefined;
  }

  /** Builds the frozen route table; handler outputs are published on `bus`. */
  load(handlers: readonly HandlerDefinition[], bus: EventBus): void {
    if (this.table) throw new DispatchEngineStateError('The dispatch engine is already loaded');
    this.table = new RouteTable(handlers);
    this.bus = bus;
    this.watch.start();
  }

  reset(): void {
    this.table = undefined;
    this.bus = undefined;
    this.watch.stop();
  }

  /**
   * Gives up every running handler, and every one started until the next `load()`: their
   * deliveries reject with `DeliveryAbandonedError`, so their messages stay uncommitted.
   */
  abandonAll(): void {
    this.watch.abandonAll();
  }

  topics(): string[] {
    return this.table?.topics() ?? [];
  }

  metrics(): DispatchMetricsSnapshot {
    return this.counters.snapshot();
  }

  /** Subscribes to every handler run's latency; returns the unsubscribe function. */
  onLatency(listener: LatencyListener): () => void {
    this.counters.latencyListeners.add(listener);
    return () => this.counters.latencyListeners.delete(listener);
  }

  /** Handlers of `node` running now. */
  activeOperations(node: string): number {
    return this.inFlight.ofNode(node);
  }

  /** Names of the handlers running now. */
  running(): string[] {
    return this.inFlight.names();
  }

  /**
   * Dispatches one message. `succeeded` names handlers that already handled it on an
   * earlier attempt; they are not run again.
   */
  async dispatch(
    message: BusMessage,
    attempt = 1,
    succeeded: ReadonlySet<string> = NO_SUCCESSES,
  ): Promise<DispatchOutcome> {
    const table = this.table;
    if (!table) throw new DispatchEngineStateError('The dispatch engine is not loaded');
    const headerType = message.headers[HEADERS.eventType];
    if (!table.accepts(message.topic, headerType)) {
      return this.counted(message.topic, false, {
        status: 'no_handler',
        ...(headerType === undefined ? {} : { eventType: headerType }),
      });
    }
    const decoded = decodeMessage(message);
    if (!decoded.ok) {
      return this.counted(message.topic, true, {
        status: 'invalid_message',
        reason: decoded.reason,
        detail: decoded.detail,
      });
    }
    const event = decoded.event;
    const handlers = table.match(message.topic, event.eventType);
    if (handlers.length === 0) {
      return this.counted(message.topic, true, { status: 'no_handler', event });
    }
    const done: string[] = succeeded.size === 0 ? [] : [...succeeded];
    let failures: HandlerFailure[] | undefined;
    for (const handler of handlers) {
      if (succeeded.has(handler.name)) continue;
      const failure = await this.run(handler, event, attempt);
      if (failure) (failures ??= []).push(failure);
      else done.push(handler.name);
    }
    if (failures) {
      return this.counted(message.topic, true, {
        status: 'handler_error',
        event,
        failures,
        succeeded: done,
      });
    }
    return this.counted(message.topic, true, { status: 'success', event, handlers: done });
  }

  private async run(
    handler: HandlerDefinition,
    event: IntelligenceEvent,
    attempt: number,
  ): Promise<HandlerFailure | undefined> {
    let idempotencyKey: string | undefined;
    try {
      idempotencyKey = handler.idempotencyKey
        ? `${handler.name}\u0000${handler.idempotencyKey(event)}`
        : undefined;
    } catch (error) {
      return { handler: handler.name, error, permanent: false };
    }
    if (idempotencyKey !== undefined && this.seen.has(idempotencyKey)) {
      this.counters.duplicate(handler.name);
      return undefined;
    }
    const operation =
      handler.operationEvents && this.bus
        ? {
            bus: this.bus,
            facts: {
              service: this.config.serviceName,
              handler: handler.name,
              node: handler.node,
              event,
            },
          }
        : undefined;
    if (operation)
      await this.quietly(() => publishOperationStarted(operation.bus, operation.facts));
    const bus = this.bus;
    if (!bus) throw new DispatchEngineStateError('The dispatch engine was reset');
    const started = performance.now();
    const ctx = new HandlerContext(
      handler.name,
      attempt,
      event,
      bus,
      this.config.serviceName,
      this.config.topicMap,
    );
    this.inFlight.enter(handler);
    let failure: HandlerFailure | undefined;
    try {
      const result = handler.invoke(event, ctx);
      if (isPromiseLike(result)) {
        await this.watch.watch(result, handler.name, event.topic, (reason) => {
          ctx.abort(reason);
        });
      }
      if (idempotencyKey !== undefined) this.seen.add(idempotencyKey);
    } catch (error) {
      if (error instanceof DeliveryAbandonedError) throw error;
      failure = { handler: handler.name, error, permanent: error instanceof PermanentHandlerError };
    } finally {
      this.inFlight.leave(handler);
    }
    const durationMs = performance.now() - started;
    this.counters.observe(handler.name, !failure, durationMs);
    if (operation) {
      const status = failure ? 'failed' : 'succeeded';
      await this.quietly(() =>
        publishOperationCompleted(operation.bus, operation.facts, { status, durationMs, attempt }),
      );
    }
    return failure;
  }

  /** Operation events are observability: a failure to publish one never fails the handler. */
  private async quietly(publish: () => Promise<void>): Promise<void> {
    try {
      await publish();
    } catch (error) {
      this.logger.warn({
        msg: 'Operation event could not be published',
        error: this.sanitizer.describeError(error),
      });
    }
  }

  private counted(topic: string, known: boolean, outcome: DispatchOutcome): DispatchOutcome {
    this.counters.count(topic, outcome.status, known);
    return outcome;
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
