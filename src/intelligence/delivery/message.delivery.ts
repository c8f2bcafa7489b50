import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type {
  BusMessage,
  HandlerResult,
  OutgoingMessage,
  PendingAck,
  Subscription,
} from '../bus/bus-message.interface.js';
import { NotDueYetError, RetryLaterError } from '../bus/bus.errors.js';
import { settledWithin } from '../bus/bounded-wait.js';
import { backoffDelay } from '../bus/redelivery-backoff.js';
import { EventBus } from '../bus/event-bus.js';
import { INTELLIGENCE_CONFIG, type IntelligenceConfig } from '../intelligence.config.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import { MessageTracing } from '../tracing/message-tracing.js';
import type { TraceParent } from '../tracing/message-trace.interface.js';
import { deadLetterTopic, toDeadLetter, type DeadLetterFacts } from './dead-letter.js';
import type { DispatchOutcome, HandlerFailure } from './dispatch-outcome.interface.js';
import { Dispatcher } from './dispatcher.js';
import { DeliveryAbandonedError } from './handler-watch.js';
import { RetryPolicies } from './retry-policies.js';
import {
  historyEntry,
  originOf,
  readRetryState,
  retryGroupId,
  retryTierTopic,
  toRetryTier,
  type RetryHistoryEntry,
  type RetryOrigin,
  type RetryState,
} from './retry-tiers.js';

export interface DrainResult {
  drained: boolean;
  /** Handlers still running at the deadline. */
  pending: string[];
}

export interface DeliveryStats {
  /** In-place retries. */
  retried: number;
  /** Hand-overs to a retry tier topic. */
  retryTiered: number;
  retryTierFailures: number;
  deadLettered: number;
  deadLetterFailures: number;
  dropped: number;
}

/** A dead letter or a retry-tier message to publish before the message is acknowledged. */
interface Handover {
  kind: 'dead_letter' | 'retry';
  topic: string;
  message: OutgoingMessage;
  /** Counts and logs it, once the broker has it. */
  sent: () => void;
  /** The consumer span of the dispatch that failed: its producer span's parent. */
  trace: TraceParent | undefined;
}

interface Tracking {
  /** The attempt number of the last run. */
  attempts: number;
  /** Handlers done with the message: they handled it, or it was handed over for them. */
  succeeded: Set<string>;
  /** Hand-overs whose publish failed: the redelivery only publishes these. */
  pending?: Handover[];
  /** After the hand-overs, the remaining failed handlers run again in place. */
  rerun: boolean;
  publishFailures: number;
}

/** What the delivery knows of a message it runs: from its own topic, or from a retry tier. */
interface Run {
  message: BusMessage;
  /** The retry tier's state; the engine sees the message as on its original topic. */
  retry?: RetryState;
  /** The dispatch's consumer span: hand-overs are its children. */
  trace?: TraceParent;
}

/** The result of every message handled at once: one shared settled promise. */
const ACKNOWLEDGED: HandlerResult = Promise.resolve();

/** Messages whose retry state is kept at once (older entries are forgotten first). */
const MAX_TRACKED = 10_000;

/**
 * The bridge from the bus to the engine and the error policy. A transient handler error is
 * retried by the handler's policy (`dispatch.retry`, or its own): in place, with capped
 * exponential backoff and jitter (the bus pauses only that partition) up to `maxAttempts`;
 * or through the retry tier topics, where the group's retry consumers run it again once due.
 * A permanent one (invalid message, no handler, `PermanentHandlerError`, attempts or tiers
 * used up) goes to the dead-letter topic with the original bytes. A message is acknowledged
 * only once handled or handed over: a failing dead-letter or tier publish is retried, never
 * dropped. Hand-overs leave the hot path: the bus goes on with the next messages (their
 * publishes share produce requests) and acknowledges this one once the broker accepted them.
 * Handlers that already succeeded are not run again.
 */
@Injectable()
export class MessageDelivery {
  private readonly logger = new Logger('MessageDelivery');
  private readonly tracking = new Map<string, Tracking>();
  private readonly counters: DeliveryStats = {
    retried: 0,
    retryTiered: 0,
    retryTierFailures: 0,
    deadLettered: 0,
    deadLetterFailures: 0,
    dropped: 0,
  };
  /** Rejects of the hand-over publishes in flight, called at the drain deadline. */
  private readonly settling = new Set<(error: Error) => void>();
  private policies: RetryPolicies;

  constructor(
    @Inject(Dispatcher) private readonly engine: Dispatcher,
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(INTELLIGENCE_CONFIG) private readonly config: IntelligenceConfig,
    @Inject(LogSanitizer) private readonly sanitizer: LogSanitizer,
    @Optional()
    @Inject(MessageTracing)
    private readonly tracing: MessageTracing = MessageTracing.disabled,
  ) {
    this.policies = new RetryPolicies(config.dispatch.retry);
  }

  stats(): DeliveryStats {
    return { ...this.counters };
  }

  /** The retry policies of the wiring's handlers (each wiring loads its own). */
  load(policies: RetryPolicies): void {
    this.policies = policies;
  }

  /**
   * The bus handler of the handlers' topics: resolves to acknowledge (for a hand-over, once
   * its publish settles), rejects to have the message redelivered.
   */
  deliver(message: BusMessage): HandlerResult {
    try {
      return this.run({ message });
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  /**
   * The bus handler of the retry tier topics: waits (its partition paused) until the message
   * is due, then runs the handlers it names as on its original topic.
   */
  deliverRetry(message: BusMessage): HandlerResult {
    try {
      const retry = readRetryState(message);
      if ('invalid' in retry) return this.invalidRetry(message, retry.invalid);
      if (retry.group !== this.config.groupId) return ACKNOWLEDGED;
      const wait = retry.dueAt - Date.now();
      if (wait > 0) return Promise.reject(new NotDueYetError(wait));
      return this.run({ message, retry });
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  /** A tier message whose retry headers are broken: dead-lettered as it is. */
  private invalidRetry(message: BusMessage, problem: string): HandlerResult {
    const tracked = this.tracking.size === 0 ? undefined : this.tracking.get(trackingId(message));
    if (tracked?.pending)
      return Promise.resolve(this.handOver({ message }, tracked, tracked.pending));
    const tracking = this.track(undefined);
    tracking.attempts = 1;
    return settledAck(
      this.deadLetter({ message }, tracking, this.facts(1, 'InvalidRetryHeaders', problem)),
    );
  }

  private run(run: Run): HandlerResult {
    const { message, retry } = run;
    const tracked = this.tracking.size === 0 ? undefined : this.tracking.get(trackingId(message));
    if (tracked?.pending) return Promise.resolve(this.handOver(run, tracked, tracked.pending));
    const attempt = (tracked?.attempts ?? retry?.attempt ?? 0) + 1;
    const succeeded = tracked?.succeeded ?? (retry ? this.notRetried(retry) : undefined);
    const outcome = retry
      ? this.engine.handle(asOriginal(message, retry.origin), attempt, succeeded, {
          message,
          groupId: retryGroupId(this.config.groupId),
        })
      : this.engine.handle(message, attempt, succeeded);
    if (outcome instanceof Promise) {
      return outcome.then((settled) =>
        settledAck(this.decide(run, tracked, succeeded, attempt, settled)),
      );
    }
    const ack = this.decide(run, tracked, succeeded, attempt, outcome);
    return ack === undefined ? ACKNOWLEDGED : Promise.resolve(ack);
  }

  /** The handlers of a tier message's original topic that it does not name. */
  private notRetried(retry: RetryState): Set<string> {
    const names = new Set(this.policies.handlersOf(retry.origin.topic));
    for (const name of retry.handlers) names.delete(name);
    return names;
  }

  /** What the outcome means for the message: acknowledged, pending its hand-overs, or retried (throws). */
  private decide(
    run: Run,
    tracked: Tracking | undefined,
    succeeded: ReadonlySet<string> | undefined,
    attempt: number,
    outcome: DispatchOutcome,
  ): PendingAck | undefined {
    if (outcome.status === 'success') {
      if (tracked) this.tracking.delete(trackingId(run.message));
      return undefined;
    }
    const tracking = tracked ?? this.track(succeeded);
    tracking.attempts = attempt;
    return this.settle(outcome.trace ? { ...run, trace: outcome.trace } : run, tracking, outcome);
  }

  private track(succeeded: ReadonlySet<string> | undefined): Tracking {
    return { attempts: 0, succeeded: new Set(succeeded), rerun: false, publishFailures: 0 };
  }

  /**
   * Stops the subscriptions (nothing new starts; what was handled is committed), waiting for
   * running handlers and dead-letter publishes up to `timeoutMs`. What still runs at the
   * deadline is abandoned: left uncommitted for redelivery, never acknowledged.
   */
  async stop(subscriptions: readonly Subscription[], timeoutMs: number): Promise<DrainResult> {
    const closing = Promise.allSettled(subscriptions.map((subscription) => subscription.close()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        resolve('timeout');
      }, timeoutMs);
    });
    const first = await Promise.race([closing, deadline]);
    clearTimeout(timer);
    if (first !== 'timeout') return { drained: true, pending: [] };
    const pending = [
      ...this.engine.running(),
      ...Array.from(this.settling, () => 'dead-letter publish'),
    ];
    this.engine.abandonAll();
    for (const abandon of this.settling) abandon(new DeliveryAbandonedError());
    this.settling.clear();
    // Abandoned work stops at once; closing the consumer may still wait on a broker that is gone.
    await settledWithin(closing, this.config.shutdown.disconnectTimeoutMs);
    return { drained: pending.length === 0, pending };
  }

  private settle(
    run: Run,
    tracking: Tracking,
    outcome: Exclude<DispatchOutcome, { status: 'success' }>,
  ): PendingAck | undefined {
    switch (outcome.status) {
      case 'no_handler':
        return this.deadLetter(run, tracking, {
          ...this.facts(
            tracking.attempts,
            'NoHandler',
            `no handler for event type ${outcome.event?.eventType ?? outcome.eventType ?? '(unknown)'}`,
          ),
          ...(outcome.event ? { correlationId: outcome.event.correlationId } : {}),
        });
      case 'invalid_message':
        return this.deadLetter(
          run,
          tracking,
          this.facts(tracking.attempts, `InvalidMessage:${outcome.reason}`, outcome.detail),
        );
      case 'handler_error':
        for (const name of outcome.succeeded) tracking.succeeded.add(name);
        return this.handlerFailed(run, tracking, outcome.failures, outcome.event.correlationId);
    }
  }

  /**
   * Sorts the failed handlers by their policies: to a retry tier (grouped by delay), again in
   * place, or (permanent, attempts or tiers used up) to the dead letters.
   */
  private handlerFailed(
    run: Run,
    tracking: Tracking,
    failures: HandlerFailure[],
    correlationId: string,
  ): PendingAck | undefined {
    const origin = run.retry?.origin ?? originOf(run.message);
    const tiers = new Map<number, HandlerFailure[]>();
    const exhausted: HandlerFailure[] = [];
    const inPlace: HandlerFailure[] = [];
    const permanent = failures.some((failure) => failure.permanent);
    for (const failure of failures) {
      const policy = this.policies.of(origin.topic, failure.handler);
      const delay = policy.mode === 'topics' ? policy.delaysMs[run.retry?.tier ?? 0] : undefined;
      if (permanent) exhausted.push(failure);
      else if (policy.mode === 'in-place') {
        (tracking.attempts < this.config.dispatch.maxAttempts ? inPlace : exhausted).push(failure);
      } else if (delay === undefined) exhausted.push(failure);
      else tiers.set(delay, [...(tiers.get(delay) ?? []), failure]);
    }
    if (tiers.size === 0 && exhausted.length === 0) throw this.retryInPlace(run, tracking, inPlace);
    const handovers: Handover[] = [];
    for (const [delay, tiered] of tiers) handovers.push(this.toTier(run, tracking, delay, tiered));
    const dead =
      exhausted.length > 0 ? this.deadLetterOf(run, tracking, exhausted, correlationId) : undefined;
    if (dead) handovers.push(dead);
    for (const { handler } of [...exhausted, ...[...tiers.values()].flat()]) {
      tracking.succeeded.add(handler);
    }
    tracking.rerun = inPlace.length > 0;
    if (exhausted.length > 0 && !dead) this.dropped(run, reasonOf(exhausted, this.sanitizer));
    if (handovers.length === 0) {
      if (tracking.rerun) throw this.retryInPlace(run, tracking, inPlace);
      this.tracking.delete(trackingId(run.message));
      return undefined;
    }
    return this.handOver(run, tracking, handovers, inPlace);
  }

  private retryInPlace(run: Run, tracking: Tracking, failures: HandlerFailure[]): RetryLaterError {
    this.remember(run.message, tracking);
    this.counters.retried += 1;
    const delay = backoffDelay(tracking.attempts, this.config.dispatch.backoff, true);
    this.logger.warn({
      msg: 'Handler failed; retrying',
      ...where(run),
      attempt: tracking.attempts,
      retryInMs: delay,
      error: reasonOf(failures, this.sanitizer),
    });
    return new RetryLaterError(delay);
  }

  /** The next tier's message for the `failures` whose policy waits `delay` next. */
  private toTier(
    run: Run,
    tracking: Tracking,
    delay: number,
    failures: HandlerFailure[],
  ): Handover {
    const tier = (run.retry?.tier ?? 0) + 1;
    const topic = retryTierTopic(this.config.groupId, delay);
    const message = toRetryTier(run.message, {
      group: this.config.groupId,
      origin: run.retry?.origin ?? originOf(run.message),
      attempt: tracking.attempts,
      tier,
      dueAt: Date.now() + delay,
      handlers: failures.map((failure) => failure.handler),
      history: this.history(run, tracking, failures),
    });
    return {
      kind: 'retry',
      topic,
      message,
      trace: run.trace,
      sent: () => {
        this.counters.retryTiered += 1;
        this.logger.warn({
          msg: 'Handler failed; sent to a retry tier',
          ...where(run),
          attempt: tracking.attempts,
          retryTopic: topic,
          tier,
          retryInMs: delay,
          error: reasonOf(failures, this.sanitizer),
        });
      },
    };
  }

  /** The dead letter for the `failures`, with the history when the message went through tiers; `undefined` when dead letters are off. */
  private deadLetterOf(
    run: Run,
    tracking: Tracking,
    failures: HandlerFailure[],
    correlationId: string,
  ): Handover | undefined {
    const first = failures[0]?.error;
    const failureClass = first instanceof Error ? first.name : 'Error';
    const reason = reasonOf(failures, this.sanitizer);
    const facts: DeadLetterFacts = {
      ...this.facts(tracking.attempts, failureClass, reason),
      correlationId,
      ...(run.retry ? { history: this.history(run, tracking, failures) } : {}),
    };
    return this.deadLetterHandover(run, tracking, facts);
  }

  /** Dead-letters the whole message: acknowledged once the publish settles (at once when they are off). */
  private deadLetter(run: Run, tracking: Tracking, facts: DeadLetterFacts): PendingAck | undefined {
    const handover = this.deadLetterHandover(run, tracking, facts);
    if (!handover) {
      this.tracking.delete(trackingId(run.message));
      this.dropped(run, facts.reason);
      return undefined;
    }
    return this.handOver(run, tracking, [handover]);
  }

  private deadLetterHandover(
    run: Run,
    tracking: Tracking,
    facts: DeadLetterFacts,
  ): Handover | undefined {
    const deadLetters = this.config.dispatch.deadLetter;
    if (deadLetters === false) return undefined;
    const origin = run.retry?.origin;
    const topic = deadLetterTopic(origin?.topic ?? run.message.topic, deadLetters);
    const message = toDeadLetter(run.message, { ...facts, ...(origin ? { origin } : {}) });
    return {
      kind: 'dead_letter',
      topic,
      message,
      trace: run.trace,
      sent: () => {
        this.counters.deadLettered += 1;
        this.logger.warn({
          msg: 'Message dead-lettered',
          ...where(run),
          deadLetterTopic: topic,
          failureClass: facts.failureClass,
          reason: facts.reason,
          attempts: tracking.attempts,
        });
      },
    };
  }

  private dropped(run: Run, reason: string): void {
    this.counters.dropped += 1;
    this.logger.error({
      msg: 'Message failed; dead letters are off, dropped',
      ...where(run),
      reason,
    });
  }

  /** The history of a hand-over: the tier message's, plus this attempt's failures. */
  private history(run: Run, tracking: Tracking, failures: HandlerFailure[]): RetryHistoryEntry[] {
    const first = failures[0]?.error;
    return [
      ...(run.retry?.history ?? []),
      historyEntry({
        attempt: tracking.attempts,
        topic: run.message.topic,
        failureClass: first instanceof Error ? first.name : 'Error',
        reason: reasonOf(failures, this.sanitizer),
        at: new Date().toISOString(),
      }),
    ];
  }

  /**
   * Publishes the hand-overs; the message is acknowledged once the broker has them all, or
   * (`rerun`) redelivered to run the remaining failed handlers in place. A failed publish
   * keeps the message uncommitted: its redelivery publishes only what is still missing.
   */
  private handOver(
    run: Run,
    tracking: Tracking,
    handovers: Handover[],
    inPlace: HandlerFailure[] = [],
  ): PendingAck {
    tracking.pending = handovers;
    const resumed = inPlace.length === 0 && tracking.rerun;
    const settled = Promise.allSettled(handovers.map((handover) => this.publish(handover))).then(
      (results) => {
        const failed = handovers.filter((handover, index) => {
          if (results[index]?.status === 'fulfilled') {
            handover.sent();
            return false;
          }
          return true;
        });
        if (failed.length > 0) {
          const rejected = results.find((result) => result.status === 'rejected');
          throw this.handOverFailed(run, tracking, failed, rejected?.reason);
        }
        tracking.pending = undefined;
        if (!tracking.rerun) {
          this.tracking.delete(trackingId(run.message));
          return;
        }
        // Run the rest again: after this attempt's backoff, or at once after a late hand-over.
        throw resumed ? this.rerunNow(run, tracking) : this.retryInPlace(run, tracking, inPlace);
      },
    );
    return { settled: this.abandonable(settled) };
  }

  /** Publishes a hand-over under a producer span, a child of the dispatch's consumer span. */
  private async publish(handover: Handover): Promise<void> {
    const { topic, message, kind } = handover;
    const trace = this.tracing.injectPublish(topic, message.headers ?? {}, handover.trace, kind);
    try {
      await this.bus.publish(topic, { ...message, headers: trace.headers });
      trace.end();
    } catch (error) {
      trace.end(error);
      throw error;
    }
  }

  private rerunNow(run: Run, tracking: Tracking): RetryLaterError {
    this.remember(run.message, tracking);
    return new RetryLaterError(0);
  }

  /** Remembers what is left to publish, so the redelivery publishes only that. */
  private handOverFailed(
    run: Run,
    tracking: Tracking,
    failed: Handover[],
    error: unknown,
  ): RetryLaterError {
    tracking.pending = failed;
    tracking.publishFailures += 1;
    this.remember(run.message, tracking);
    const deadLetters = failed.filter((handover) => handover.kind === 'dead_letter').length;
    this.counters.deadLetterFailures += deadLetters;
    this.counters.retryTierFailures += failed.length - deadLetters;
    const delay = backoffDelay(tracking.publishFailures, this.config.dispatch.backoff, true);
    this.logger.error({
      msg: `${deadLetters > 0 ? 'Dead-letter' : 'Retry-tier'} publish failed; the message stays uncommitted and is retried`,
      ...where(run),
      topics: failed.map((handover) => handover.topic),
      retryInMs: delay,
      error: this.sanitizer.describeError(error),
    });
    return new RetryLaterError(delay, { cause: error });
  }

  /** `settled`, unless the drain deadline abandons it first. */
  private abandonable(settled: Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.settling.add(reject);
      settled.then(
        () => {
          this.settling.delete(reject);
          resolve();
        },
        (error: unknown) => {
          this.settling.delete(reject);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a RetryLaterError, passed on as it is
          reject(error);
        },
      );
    });
  }

  private facts(attempts: number, failureClass: string, reason: string): DeadLetterFacts {
    return {
      groupId: this.config.groupId,
      failureClass,
      reason: this.sanitizer.sanitize(reason),
      attempts,
    };
  }

  private remember(message: BusMessage, tracking: Tracking): void {
    this.tracking.set(trackingId(message), tracking);
    if (this.tracking.size > MAX_TRACKED) {
      const oldest = this.tracking.keys().next();
      if (!oldest.done) this.tracking.delete(oldest.value);
    }
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function trackingId(message: BusMessage): string {
  return `${message.topic}\u0000${String(message.partition)}\u0000${message.offset}`;
}

function where({ message, retry }: Run) {
  const at = { topic: message.topic, partition: message.partition, offset: message.offset };
  return retry
    ? { ...at, originalTopic: retry.origin.topic, originalOffset: retry.origin.offset }
    : at;
}

/** The pending acknowledgement as the bus handler's result. */
function settledAck(ack: PendingAck | undefined): HandlerResult {
  return ack === undefined ? ACKNOWLEDGED : Promise.resolve(ack);
}

/** A tier message as the engine routes it: on its original topic, partition and offset. */
function asOriginal(message: BusMessage, origin: RetryOrigin): BusMessage {
  return { ...message, topic: origin.topic, partition: origin.partition, offset: origin.offset };
}

function reasonOf(failures: readonly HandlerFailure[], sanitizer: LogSanitizer): string {
  return failures
    .map((failure) => `${failure.handler}: ${sanitizer.describeError(failure.error)}`)
    .join('; ');
}
