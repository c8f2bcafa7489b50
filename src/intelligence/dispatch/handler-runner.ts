import type { Logger } from '@nestjs/common';
import type { EventBus } from '../bus/event-bus.js';
import {
  PermanentHandlerError,
  type HandlerFailure,
} from '../delivery/dispatch-outcome.interface.js';
import { DeliveryAbandonedError, type HandlerWatch } from '../delivery/handler-watch.js';
import { DuplicateDeliveryError, type IdempotencyCheck } from '../delivery/idempotency-check.js';
import type { IntelligenceConfig } from '../intelligence.config.js';
import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type { TraceParent } from '../tracing/message-trace.interface.js';
import type { MessageTracing } from '../tracing/message-tracing.js';
import type { IntelligenceEvent } from '../wire/intelligence-event.interface.js';
import type { TransactionRunner } from './dispatch-context.interface.js';
import type { DispatchMetrics, HandlerMeter } from './dispatch.metrics.js';
import { HandlerContext } from './handler-context.js';
import type { HandlerDefinition } from './handler-definition.interface.js';
import { publishOperationCompleted, publishOperationStarted } from './operation-events.js';

/** One handler run of one message, as the engine routed it. */
export interface HandlerRun {
  readonly handler: HandlerDefinition;
  readonly event: IntelligenceEvent;
  readonly attempt: number;
  readonly bus: EventBus;
  readonly meter: HandlerMeter;
  readonly check: IdempotencyCheck | undefined;
  readonly transactions: TransactionRunner | undefined;
  /** The dispatch's consumer span: the parent of the handler's publishes. */
  readonly trace: TraceParent | undefined;
}

export type RunResult = HandlerFailure | undefined | Promise<HandlerFailure | undefined>;

/**
 * Runs one handler: its context, the watch (timeout, abandon at the drain deadline), its
 * latency, its idempotency record, its operation events. Synchronous when the handler is.
 */
export class HandlerRunner {
  constructor(
    private readonly config: IntelligenceConfig,
    private readonly sanitizer: LogSanitizer,
    private readonly counters: DispatchMetrics,
    private readonly watch: HandlerWatch,
    private readonly logger: Logger,
    private readonly tracing: MessageTracing,
  ) {}

  run(run: HandlerRun): RunResult {
    return run.handler.operationEvents ? this.withOperationEvents(run) : this.invoke(run);
  }

  private invoke(run: HandlerRun): RunResult {
    const { handler, event, meter } = run;
    const ctx = new HandlerContext(
      handler.name,
      run.attempt,
      event,
      run.bus,
      this.config.serviceName,
      this.config.topicMap,
      this.transactionsFor(run),
      this.tracing,
      run.trace,
    );
    const started = performance.now();
    meter.running += 1;
    let result: unknown;
    try {
      result = handler.invoke(event, ctx);
    } catch (error) {
      return this.settled(run, started, error, true);
    }
    if (!isPromiseLike(result)) return this.settled(run, started);
    return new Promise<HandlerFailure | undefined>((resolve, reject) => {
      const watched = this.watch.enter(handler.name, event.topic, started, (error) => {
        ctx.abort(error);
        if (error instanceof DeliveryAbandonedError) {
          meter.running -= 1;
          reject(error);
        } else resolve(this.settled(run, started, error, true));
      });
      if (!watched) return;
      result.then(
        () => {
          if (this.watch.leave(watched)) resolve(this.settled(run, started));
        },
        (error: unknown) => {
          if (this.watch.leave(watched)) resolve(this.settled(run, started, error, true));
        },
      );
    });
  }

  /** Records a finished run (and its idempotency key); its failure, if it threw. */
  private settled(run: HandlerRun, started: number, error?: unknown, failed = false): RunResult {
    const { meter, check } = run;
    meter.running -= 1;
    if (failed && error instanceof DuplicateDeliveryError) return skipped(meter);
    this.counters.observe(meter, !failed, performance.now() - started);
    if (failed) {
      return { handler: meter.name, error, permanent: error instanceof PermanentHandlerError };
    }
    if (!check) return undefined;
    try {
      const recording = check.record();
      if (isPromiseLike(recording)) {
        return recording.then(
          () => undefined,
          (recordError: unknown) => this.notRecorded(meter, recordError),
        );
      }
    } catch (recordError) {
      return this.notRecorded(meter, recordError);
    }
    return undefined;
  }

  /** The handler succeeded and its effects stand: a lost record only risks a redelivery. */
  private notRecorded(meter: HandlerMeter, error: unknown): HandlerFailure | undefined {
    this.logger.warn({
      msg: 'Handled, but its idempotency key could not be recorded: a redelivery would run it again',
      handler: meter.name,
      error: this.sanitizer.describeError(error),
    });
    return undefined;
  }

  /** `ctx.transaction` of one run: the database's, recording the run's key in it. */
  private transactionsFor(run: HandlerRun): TransactionRunner | undefined {
    const { transactions, check } = run;
    if (!transactions) return undefined;
    return (fn) =>
      transactions(async (tx) => {
        const result = await fn(tx);
        await check?.recordIn(tx);
        return result;
      });
  }

  private async withOperationEvents(run: HandlerRun): Promise<HandlerFailure | undefined> {
    const { handler, event, attempt, bus } = run;
    const facts = {
      service: this.config.serviceName,
      handler: handler.name,
      node: handler.node,
      event,
    };
    await this.quietly(() => publishOperationStarted(bus, facts));
    const started = performance.now();
    const failure = await this.invoke(run);
    const durationMs = performance.now() - started;
    const status = failure ? 'failed' : 'succeeded';
    await this.quietly(() =>
      publishOperationCompleted(bus, facts, { status, durationMs, attempt }),
    );
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
}

/** A run skipped as a duplicate: no failure. */
export function skipped(meter: HandlerMeter): HandlerFailure | undefined {
  meter.duplicatesSkipped += 1;
  return undefined;
}

export function isPromiseLike<T>(value: unknown): value is Promise<T> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
