import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
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
import { HandlerRunner, isPromiseLike, skipped, type RunResult } from './handler-runner.js';
import type { DispatchOutcome, HandlerFailure } from '../delivery/dispatch-outcome.interface.js';
import { HEADERS } from '../wire/envelope.js';
import { decodeMessage } from '../wire/envelope.codec.js';
import { MessageTracing } from '../tracing/message-tracing.js';
import type { ConsumeTrace, TraceParent } from '../tracing/message-trace.interface.js';
import type { TransactionRunner } from './dispatch-context.interface.js';
import type { HandlerDefinition } from './handler-definition.interface.js';
import type { Dispatcher, ReceivedFrom } from '../delivery/dispatcher.js';
import { HandlerWatch } from '../delivery/handler-watch.js';
import { IdempotencyCheck } from '../delivery/idempotency-check.js';
import type { IdempotencyScope, IdempotencyStore } from '../delivery/idempotency-store.js';
import { InMemoryIdempotencyStore } from '../delivery/in-memory-idempotency.store.js';
import type { IntelligenceEvent } from '../wire/intelligence-event.interface.js';
import { RouteTable } from './route-table.js';

/** What a wiring lends the engine besides the bus. */
export interface EngineResources {
  /** Where idempotency keys are kept. @default the engine's in-memory store */
  idempotency?: IdempotencyStore;
  /** The database behind `ctx.transaction`; without it `ctx.transaction` throws. */
  transactions?: TransactionRunner;
}

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
  /** The default store: this process's recent keys, kept across wirings. */
  private readonly memoryStore = new InMemoryIdempotencyStore();
  private resources: Required<Pick<EngineResources, 'idempotency'>> & EngineResources = {
    idempotency: this.memoryStore,
  };
  private readonly scopes = new Map<string, IdempotencyScope>();
  private readonly logger = new Logger('DispatchEngine');
  private readonly watch: HandlerWatch;
  private readonly runner: HandlerRunner;

  constructor(
    @Inject(INTELLIGENCE_CONFIG) private readonly config: IntelligenceConfig,
    @Inject(LogSanitizer) sanitizer: LogSanitizer,
    @Optional()
    @Inject(MessageTracing)
    private readonly tracing: MessageTracing = MessageTracing.disabled,
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
    this.runner = new HandlerRunner(
      config,
      sanitizer,
      this.counters,
      this.watch,
      this.logger,
      tracing,
    );
  }

  get loaded(): boolean {
    return this.table !== undefined;
  }

  /**
   * Builds the frozen route table; handler outputs are published on `bus`, idempotency keys
   * kept in `resources.idempotency` (default: in memory), `ctx.transaction` runs on
   * `resources.transactions` (the module's database, when it has one).
   */
  load(
    handlers: readonly HandlerDefinition[],
    bus: EventBus,
    resources: EngineResources = {},
  ): void {
    if (this.table) throw new DispatchEngineStateError('The dispatch engine is already loaded');
    this.table = new RouteTable(handlers);
    this.bus = bus;
    this.resources = { ...resources, idempotency: resources.idempotency ?? this.memoryStore };
    this.watch.start();
  }

  reset(): void {
    this.table = undefined;
    this.bus = undefined;
    this.resources = { idempotency: this.memoryStore };
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
  dispatch(
    message: BusMessage,
    attempt = 1,
    succeeded: ReadonlySet<string> = NO_SUCCESSES,
  ): Promise<DispatchOutcome> {
    // Not `async`: an async function returning the handlers' promise would add ticks to it.
    try {
      return Promise.resolve(this.handle(message, attempt, succeeded));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * `dispatch` without a promise when every handler finished synchronously: the delivery's
   * hot path. Handlers run one after the other, in route order, under one consumer span.
   */
  handle(
    message: BusMessage,
    attempt: number,
    succeeded: ReadonlySet<string> = NO_SUCCESSES,
    received?: ReceivedFrom,
  ): DispatchOutcome | Promise<DispatchOutcome> {
    const table = this.table;
    if (!table) throw new DispatchEngineStateError('The dispatch engine is not loaded');
    const consumed = received?.message ?? message;
    const groupId = received?.groupId ?? this.config.groupId;
    const headerType = message.headers[HEADERS.eventType];
    if (!table.accepts(message.topic, headerType)) {
      const trace = this.tracing.startConsume(consumed, groupId, attempt);
      return this.counted(
        message.topic,
        false,
        this.traced(trace, {
          status: 'no_handler',
          ...(headerType === undefined ? {} : { eventType: headerType }),
        }),
      );
    }
    const decoded = decodeMessage(message);
    if (!decoded.ok) {
      const trace = this.tracing.startConsume(consumed, groupId, attempt);
      const { reason, detail } = decoded;
      const outcome = this.traced(trace, { status: 'invalid_message', reason, detail }, detail);
      return this.counted(message.topic, true, outcome);
    }
    const event = decoded.event;
    const trace = this.tracing.startConsume(consumed, groupId, attempt, event.envelopeId);
    const handlers = table.match(message.topic, event.eventType);
    if (handlers.length === 0) {
      return this.counted(message.topic, true, this.traced(trace, { status: 'no_handler', event }));
    }
    const runs = new HandlerRuns(event, handlers, succeeded);
    for (let index = 0; index < handlers.length; index++) {
      const handler = handlers[index] as HandlerDefinition;
      if (runs.succeededBefore(handler)) continue;
      const failure = this.run(handler, event, attempt, trace.parent);
      if (isPromiseLike(failure)) {
        return this.finishAsync(runs, handlers, index, failure, attempt, trace);
      }
      runs.add(handler, failure);
    }
    return this.counted(message.topic, true, this.traced(trace, runs.outcome()));
  }

  /** The rest of `handle` once a handler returned a promise. */
  private finishAsync(
    runs: HandlerRuns,
    handlers: readonly HandlerDefinition[],
    index: number,
    pending: Promise<HandlerFailure | undefined>,
    attempt: number,
    trace: ConsumeTrace,
  ): Promise<DispatchOutcome> {
    return pending.then(
      (failure) => {
        runs.add(handlers[index] as HandlerDefinition, failure);
        for (let next = index + 1; next < handlers.length; next++) {
          const handler = handlers[next] as HandlerDefinition;
          if (runs.succeededBefore(handler)) continue;
          const later = this.run(handler, runs.event, attempt, trace.parent);
          if (isPromiseLike(later)) {
            return this.finishAsync(runs, handlers, next, later, attempt, trace);
          }
          runs.add(handler, later);
        }
        return this.counted(runs.event.topic, true, this.traced(trace, runs.outcome()));
      },
      (error: unknown) => {
        // Abandoned at the drain deadline: the message stays uncommitted.
        trace.end('abandoned', error);
        throw error;
      },
    );
  }

  /** Runs one handler; a promise only when the handler returned one (or publishes operation events). */
  private run(
    handler: HandlerDefinition,
    event: IntelligenceEvent,
    attempt: number,
    trace: TraceParent | undefined,
  ): RunResult {
    let check: IdempotencyCheck | undefined;
    try {
      check = handler.idempotencyKey
        ? new IdempotencyCheck(
            this.resources.idempotency,
            this.scopeOf(handler),
            handler.idempotencyKey(event),
          )
        : undefined;
    } catch (error) {
      return { handler: handler.name, error, permanent: false };
    }
    const meter = this.meterOf(handler);
    const bus = this.bus;
    if (!bus) throw new DispatchEngineStateError('The dispatch engine was reset');
    const { transactions } = this.resources;
    const start = () =>
      this.runner.run({ handler, event, attempt, bus, meter, check, transactions, trace });
    if (!check) return start();
    let seen: boolean | Promise<boolean>;
    try {
      seen = check.seen();
    } catch (error) {
      return { handler: handler.name, error, permanent: false };
    }
    if (seen === true) return skipped(meter);
    if (seen === false) return start();
    return seen.then(
      (found): HandlerFailure | undefined | Promise<HandlerFailure | undefined> =>
        found ? skipped(meter) : start(),
      (error: unknown): HandlerFailure => ({ handler: handler.name, error, permanent: false }),
    );
  }

  private scopeOf(handler: HandlerDefinition): IdempotencyScope {
    let scope = this.scopes.get(handler.name);
    if (!scope) {
      scope = Object.freeze({ groupId: this.config.groupId, handler: handler.name });
      this.scopes.set(handler.name, scope);
    }
    return scope;
  }

  private meterOf(handler: HandlerDefinition): HandlerMeter {
    let meter = this.routeMeters.get(handler);
    if (!meter) {
      meter = this.counters.handler(handler.name);
      this.routeMeters.set(handler, meter);
    }
    return meter;
  }

  private counted<T extends DispatchOutcome>(topic: string, known: boolean, outcome: T): T {
    this.counters.count(topic, outcome.status, known);
    return outcome;
  }

  /**
   * Ends the consumer span with the outcome, described by `error` (else the first handler
   * failure); the outcome carries the span on, the parent of the delivery's hand-overs.
   */
  private traced<T extends DispatchOutcome>(trace: ConsumeTrace, outcome: T, error?: unknown): T {
    if (trace.parent === undefined) return outcome;
    outcome.trace = trace.parent;
    trace.end(
      outcome.status,
      error ?? (outcome.status === 'handler_error' ? outcome.failures[0]?.error : undefined),
    );
    return outcome;
  }
}
