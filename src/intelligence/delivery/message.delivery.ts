import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  BusMessage,
  HandlerResult,
  PendingAck,
  Subscription,
} from '../bus/bus-message.interface.js';
import { RetryLaterError } from '../bus/bus.errors.js';
import { settledWithin } from '../bus/bounded-wait.js';
import { backoffDelay } from '../bus/redelivery-backoff.js';
import { EventBus } from '../bus/event-bus.js';
import { INTELLIGENCE_CONFIG, type IntelligenceConfig } from '../intelligence.config.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import { deadLetterTopic, toDeadLetter, type DeadLetterFacts } from './dead-letter.js';
import type { DispatchOutcome, HandlerFailure } from './dispatch-outcome.interface.js';
import { Dispatcher } from './dispatcher.js';
import { DeliveryAbandonedError } from './handler-watch.js';

export interface DrainResult {
  drained: boolean;
  /** Handlers still running at the deadline. */
  pending: string[];
}

export interface DeliveryStats {
  retried: number;
  deadLettered: number;
  deadLetterFailures: number;
  dropped: number;
}

interface Tracking {
  attempts: number;
  succeeded: Set<string>;
  deadLetter?: DeadLetterFacts;
  deadLetterAttempts: number;
}

/** The result of every message handled at once: one shared settled promise. */
const ACKNOWLEDGED: HandlerResult = Promise.resolve();

/** Messages whose retry state is kept at once (older entries are forgotten first). */
const MAX_TRACKED = 10_000;

/**
 * The bridge from the bus to the engine and the error policy: a transient handler error is
 * retried with capped exponential backoff and jitter (the bus pauses only that partition)
 * up to `maxAttempts`; a permanent one (invalid message, no handler, `PermanentHandlerError`,
 * attempts used up) goes to the dead-letter topic with the original bytes. A message is
 * acknowledged only once handled or dead-lettered: a failing dead-letter publish is retried,
 * never dropped. Dead-letter publishes leave the hot path: the bus goes on with the next
 * messages (their publishes share produce requests) and acknowledges this one once the
 * broker accepted its dead letter. Handlers that already succeeded are not run again.
 */
@Injectable()
export class MessageDelivery {
  private readonly logger = new Logger('MessageDelivery');
  private readonly tracking = new Map<string, Tracking>();
  private readonly counters: DeliveryStats = {
    retried: 0,
    deadLettered: 0,
    deadLetterFailures: 0,
    dropped: 0,
  };
  /** Rejects of the dead-letter publishes in flight, called at the drain deadline. */
  private readonly settling = new Set<(error: Error) => void>();

  constructor(
    @Inject(Dispatcher) private readonly engine: Dispatcher,
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(INTELLIGENCE_CONFIG) private readonly config: IntelligenceConfig,
    @Inject(LogSanitizer) private readonly sanitizer: LogSanitizer,
  ) {}

  stats(): DeliveryStats {
    return { ...this.counters };
  }

  /**
   * The bus handler: resolves to acknowledge (for a dead letter, once its publish settles),
   * rejects to have the message redelivered.
   */
  deliver(message: BusMessage): HandlerResult {
    try {
      const id = this.tracking.size === 0 ? undefined : trackingId(message);
      const tracked = id === undefined ? undefined : this.tracking.get(id);
      if (tracked?.deadLetter) {
        return Promise.resolve(this.deadLetter(message, tracked, tracked.deadLetter));
      }
      const attempt = (tracked?.attempts ?? 0) + 1;
      const outcome = this.engine.handle(message, attempt, tracked?.succeeded);
      if (outcome instanceof Promise) {
        return outcome.then((settled) => this.decide(message, tracked, attempt, settled));
      }
      const ack = this.decide(message, tracked, attempt, outcome);
      return ack === undefined ? ACKNOWLEDGED : Promise.resolve(ack);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  /** What the outcome means for the message: acknowledged, pending its dead letter, or retried (throws). */
  private decide(
    message: BusMessage,
    tracked: Tracking | undefined,
    attempt: number,
    outcome: DispatchOutcome,
  ): PendingAck | undefined {
    if (outcome.status === 'success') {
      if (tracked) this.tracking.delete(trackingId(message));
      return undefined;
    }
    const tracking = tracked ?? { attempts: 0, succeeded: new Set(), deadLetterAttempts: 0 };
    tracking.attempts = attempt;
    return this.settle(message, tracking, outcome);
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
    message: BusMessage,
    tracking: Tracking,
    outcome: Exclude<DispatchOutcome, { status: 'success' }>,
  ): PendingAck | undefined {
    switch (outcome.status) {
      case 'no_handler':
        return this.deadLetter(message, tracking, {
          ...this.facts(
            tracking,
            'NoHandler',
            `no handler for event type ${outcome.event?.eventType ?? outcome.eventType ?? '(unknown)'}`,
          ),
          ...(outcome.event ? { correlationId: outcome.event.correlationId } : {}),
        });
      case 'invalid_message':
        return this.deadLetter(
          message,
          tracking,
          this.facts(tracking, `InvalidMessage:${outcome.reason}`, outcome.detail),
        );
      case 'handler_error':
        for (const name of outcome.succeeded) tracking.succeeded.add(name);
        return this.handlerFailed(message, tracking, outcome.failures, outcome.event.correlationId);
    }
  }

  private handlerFailed(
    message: BusMessage,
    tracking: Tracking,
    failures: HandlerFailure[],
    correlationId: string,
  ): PendingAck | undefined {
    const reason = failures
      .map((failure) => `${failure.handler}: ${this.sanitizer.describeError(failure.error)}`)
      .join('; ');
    const permanent = failures.some((failure) => failure.permanent);
    if (!permanent && tracking.attempts < this.config.dispatch.maxAttempts) {
      this.remember(message, tracking);
      this.counters.retried += 1;
      const delay = backoffDelay(tracking.attempts, this.config.dispatch.backoff, true);
      this.logger.warn({
        msg: 'Handler failed; retrying',
        ...where(message),
        attempt: tracking.attempts,
        retryInMs: delay,
        error: reason,
      });
      throw new RetryLaterError(delay);
    }
    const failureClass = failures[0]?.error instanceof Error ? failures[0].error.name : 'Error';
    return this.deadLetter(message, tracking, {
      ...this.facts(tracking, failureClass, reason),
      correlationId,
    });
  }

  /** Dead-letters `message`: acknowledged once the publish settles (at once when they are off). */
  private deadLetter(
    message: BusMessage,
    tracking: Tracking,
    facts: DeadLetterFacts,
  ): PendingAck | undefined {
    if (this.config.dispatch.deadLetter === false) {
      this.tracking.delete(trackingId(message));
      this.counters.dropped += 1;
      this.logger.error({
        msg: 'Message failed; dead letters are off, dropped',
        ...where(message),
        reason: facts.reason,
      });
      return undefined;
    }
    const topic = deadLetterTopic(message.topic, this.config.dispatch.deadLetter);
    const published = this.bus.publish(topic, toDeadLetter(message, facts)).then(
      () => {
        this.deadLettered(message, topic, facts);
      },
      (error: unknown) => {
        throw this.deadLetterFailed(message, tracking, facts, topic, error);
      },
    );
    return { settled: this.abandonable(published) };
  }

  private deadLettered(message: BusMessage, topic: string, facts: DeadLetterFacts): void {
    this.tracking.delete(trackingId(message));
    this.counters.deadLettered += 1;
    this.logger.warn({
      msg: 'Message dead-lettered',
      ...where(message),
      deadLetterTopic: topic,
      failureClass: facts.failureClass,
      reason: facts.reason,
      attempts: facts.attempts,
    });
  }

  /** Remembers the verdict, so the redelivery only publishes the dead letter again. */
  private deadLetterFailed(
    message: BusMessage,
    tracking: Tracking,
    facts: DeadLetterFacts,
    topic: string,
    error: unknown,
  ): RetryLaterError {
    tracking.deadLetter = facts;
    tracking.deadLetterAttempts += 1;
    this.remember(message, tracking);
    this.counters.deadLetterFailures += 1;
    const delay = backoffDelay(tracking.deadLetterAttempts, this.config.dispatch.backoff, true);
    this.logger.error({
      msg: 'Dead-letter publish failed; the message stays uncommitted and is retried',
      ...where(message),
      deadLetterTopic: topic,
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

  private facts(tracking: Tracking, failureClass: string, reason: string): DeadLetterFacts {
    return {
      groupId: this.config.groupId,
      failureClass,
      reason: this.sanitizer.sanitize(reason),
      attempts: tracking.attempts,
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

function where(message: BusMessage) {
  return { topic: message.topic, partition: message.partition, offset: message.offset };
}
