import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BusMessage } from '../bus/bus-message.interface.js';
import type { EventBus } from '../bus/event-bus.js';
import { INTELLIGENCE_CONFIG, type IntelligenceConfig } from '../intelligence.config.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import {
  DispatchMetrics,
  type DispatchMetricsSnapshot,
  type HandlerMeter,
  type LatencyListener,
} from './dispatch.metrics.js';
import { HandlerRuns } from './handler-runs.js';
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
  /** The meter of each handler of the current route table (its counters and running count). */
  private readonly routeMeters = new Map<HandlerDefinition, HandlerMeter>();
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
    this.routeMeters.clear();
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

  /** Every handler's meter (kept across wirings), for exporters. */
  meters(): IterableIterator<HandlerMeter> {
    return this.counters.handlers();
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
    let count = 0;
    for (const [handler, meter] of this.routeMeters)
      if (handler.node === node) count += meter.running;
    return count;
  }

  /** Names of the handlers running now. */
  running(): string[] {
    return [...this.routeMeters.values()].flatMap((meter) =>
      Array.from({ length: meter.running }, () => meter.name),
    );
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
    return this.handle(message, attempt, succeeded);
  }

  /**
   * `dispatch` without a promise when every handler finished synchronously: the delivery's
   * hot path. Handlers run one after the other, in route order.
   */
  handle(
    message: BusMessage,
    attempt: number,
    succeeded: ReadonlySet<string> = NO_SUCCESSES,
  ): DispatchOutcome | Promise<DispatchOutcome> {
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
    const runs = new HandlerRuns(event, handlers, succeeded);
    for (let index = 0; index < handlers.length; index++) {
      const handler = handlers[index] as HandlerDefinition;
      if (runs.succeededBefore(handler)) continue;
      const failure = this.run(handler, event, attempt);
      if (isPromiseLike(failure)) return this.finishAsync(runs, handlers, index, failure, attempt);
      runs.add(handler, failure);
    }
    return this.counted(message.topic, true, runs.outcome());
  }

  /** The rest of `handle` once a handler returned a promise. */
  private finishAsync(
    runs: HandlerRuns,
    handlers: readonly HandlerDefinition[],
    index: number,
    pending: Promise<HandlerFailure | undefined>,
    attempt: number,
  ): Promise<DispatchOutcome> {
    return pending.then((failure) => {
      runs.add(handlers[index] as HandlerDefinition, failure);
      for (let next = index + 1; next < handlers.length; next++) {
        const handler = handlers[next] as HandlerDefinition;
        if (runs.succeededBefore(handler)) continue;
        const later = this.run(handler, runs.event, attempt);
        if (isPromiseLike(later)) return this.finishAsync(runs, handlers, next, later, attempt);
        runs.add(handler, later);
      }
      return this.counted(runs.event.topic, true, runs.outcome());
    });
  }

  /** Runs one handler; a promise only when the handler returned one (or publishes operation events). */
  private run(
    handler: HandlerDefinition,
    event: IntelligenceEvent,
    attempt: number,
  ): HandlerFailure | undefined | Promise<HandlerFailure | undefined> {
    let idempotencyKey: string | undefined;
    try {
      idempotencyKey = handler.idempotencyKey
        ? `${handler.name}\u0000${handler.idempotencyKey(event)}`
        : undefined;
    } catch (error) {
      return { handler: handler.name, error, permanent: false };
    }
    const meter = this.meterOf(handler);
    if (idempotencyKey !== undefined && this.seen.has(idempotencyKey)) {
      meter.duplicatesSkipped += 1;
      return undefined;
    }
    const bus = this.bus;
    if (!bus) throw new DispatchEngineStateError('The dispatch engine was reset');
    if (handler.operationEvents) {
      return this.runWithOperationEvents(handler, event, attempt, bus, meter, idempotencyKey);
    }
    return this.invoke(handler, event, attempt, bus, meter, idempotencyKey);
  }

  private invoke(
    handler: HandlerDefinition,
    event: IntelligenceEvent,
    attempt: number,
    bus: EventBus,
    meter: HandlerMeter,
    idempotencyKey: string | undefined,
  ): HandlerFailure | undefined | Promise<HandlerFailure | undefined> {
    const ctx = new HandlerContext(
      handler.name,
      attempt,
      event,
      bus,
      this.config.serviceName,
      this.config.topicMap,
    );
    const started = performance.now();
    meter.running += 1;
    let result: unknown;
    try {
      result = handler.invoke(event, ctx);
    } catch (error) {
      return this.settled(meter, started, idempotencyKey, error, true);
    }
    if (!isPromiseLike(result)) return this.settled(meter, started, idempotencyKey);
    return new Promise<HandlerFailure | undefined>((resolve, reject) => {
      const watched = this.watch.enter(handler.name, event.topic, started, (error) => {
        ctx.abort(error);
        if (error instanceof DeliveryAbandonedError) {
          meter.running -= 1;
          reject(error);
        } else resolve(this.settled(meter, started, idempotencyKey, error, true));
      });
      if (!watched) return;
      result.then(
        () => {
          if (this.watch.leave(watched)) resolve(this.settled(meter, started, idempotencyKey));
        },
        (error: unknown) => {
          if (this.watch.leave(watched)) {
            resolve(this.settled(meter, started, idempotencyKey, error, true));
          }
        },
      );
    });
  }

  /** Records a finished run; its failure, if it threw. */
  private settled(
    meter: HandlerMeter,
    started: number,
    idempotencyKey: string | undefined,
    error?: unknown,
    failed = false,
  ): HandlerFailure | undefined {
    meter.running -= 1;
    this.counters.observe(meter, !failed, performance.now() - started);
    if (failed) {
      return { handler: meter.name, error, permanent: error instanceof PermanentHandlerError };
    }
    if (idempotencyKey !== undefined) this.seen.add(idempotencyKey);
    return undefined;
  }

  private async runWithOperationEvents(
    handler: HandlerDefinition,
    event: IntelligenceEvent,
    attempt: number,
    bus: EventBus,
    meter: HandlerMeter,
    idempotencyKey: string | undefined,
  ): Promise<HandlerFailure | undefined> {
    const facts = {
      service: this.config.serviceName,
      handler: handler.name,
      node: handler.node,
      event,
    };
    await this.quietly(() => publishOperationStarted(bus, facts));
    const started = performance.now();
    const failure = await this.invoke(handler, event, attempt, bus, meter, idempotencyKey);
    const durationMs = performance.now() - started;
    const status = failure ? 'failed' : 'succeeded';
    await this.quietly(() =>
      publishOperationCompleted(bus, facts, { status, durationMs, attempt }),
    );
    return failure;
  }

  private meterOf(handler: HandlerDefinition): HandlerMeter {
    let meter = this.routeMeters.get(handler);
    if (!meter) {
      meter = this.counters.handler(handler.name);
      this.routeMeters.set(handler, meter);
    }
    return meter;
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

  private counted<T extends DispatchOutcome>(topic: string, known: boolean, outcome: T): T {
    this.counters.count(topic, outcome.status, known);
    return outcome;
  }
}

function isPromiseLike<T>(value: unknown): value is Promise<T> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
