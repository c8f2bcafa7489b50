import type { BusMessage, EventBus, Subscription } from '../intelligence/index.js';
import {
  PATTERN_LEARNED_TOPIC,
  PATTERN_LIFECYCLE_TRANSITIONED_TOPIC,
  PATTERN_STORED_TOPIC,
} from '../nodes/index.js';

export const DEAD_LETTER_TOPIC = 'onex.dlq.commands.v1';

export interface DeadLetterSeen {
  originalTopic: string;
  failureClass: string;
  reason: string;
  attempts: string;
}

export interface TransitionSeen {
  patternId: string;
  from: string;
  to: string;
}

/** What one command of this run led to, by its correlation id. */
interface Outcome {
  batchCount?: number;
  batches: Set<number>;
  patterns: number;
  stored: number;
  transitions: TransitionSeen[];
  deadLetters: DeadLetterSeen[];
}

/**
 * Watches the chain's output topics with a consumer group of its own, like any other service,
 * and counts only what this run's commands caused (by correlation id): other traffic on the
 * same topics, a live service's say, is ignored.
 */
export class DemoObserver {
  patternsLearned = 0;
  learnedBatches = 0;
  stored = 0;
  created = 0;
  readonly transitions = new Map<string, number>();
  readonly deadLetters: DeadLetterSeen[] = [];
  /**
   * Patterns this run stored, by id: the status and occurrences last seen, and the highest
   * occurrences seen while stored as a `candidate` (0: never a candidate in this run, as a
   * pattern an earlier run promoted on a durable store).
   */
  readonly patterns = new Map<
    string,
    { status: string; occurrences: number; candidateOccurrences: number }
  >();
  private readonly outcomes = new Map<string, Outcome>();
  private subscription: Subscription | undefined;
  private learnedTopic = PATTERN_LEARNED_TOPIC;
  private storedTopic = PATTERN_STORED_TOPIC;

  constructor(private readonly print: (line: string) => void) {}

  /** Starts at the end of the topics (mapped by `topic`): only what comes from now on is seen. */
  async start(bus: EventBus, groupId: string, topic: (name: string) => string): Promise<void> {
    this.learnedTopic = topic(PATTERN_LEARNED_TOPIC);
    this.storedTopic = topic(PATTERN_STORED_TOPIC);
    this.subscription = await bus.subscribe(
      [
        this.learnedTopic,
        this.storedTopic,
        topic(PATTERN_LIFECYCLE_TRANSITIONED_TOPIC),
        DEAD_LETTER_TOPIC,
      ],
      groupId,
      (message) => {
        this.observe(message);
        return Promise.resolve();
      },
      { fromBeginning: false },
    );
  }

  /** Counts what the command with `correlationId` leads to from now on. */
  track(correlationId: string): void {
    this.outcomes.set(correlationId, {
      batches: new Set(),
      patterns: 0,
      stored: 0,
      transitions: [],
      deadLetters: [],
    });
  }

  /** Every learned batch of the session arrived and each of its patterns was stored. */
  sessionDone(correlationId: string): boolean {
    const outcome = this.outcomes.get(correlationId);
    return (
      outcome?.batchCount !== undefined &&
      outcome.batches.size === outcome.batchCount &&
      outcome.stored === outcome.patterns
    );
  }

  transitionsOf(correlationId: string): TransitionSeen[] {
    return this.outcomes.get(correlationId)?.transitions ?? [];
  }

  deadLettersOf(correlationId: string): DeadLetterSeen[] {
    return this.outcomes.get(correlationId)?.deadLetters ?? [];
  }

  /** Transitions of a pattern seen so far, whichever command of this run caused them. */
  transitionsOfPattern(patternId: string): TransitionSeen[] {
    return [...this.outcomes.values()]
      .flatMap((outcome) => outcome.transitions)
      .filter((transition) => transition.patternId === patternId);
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
  }

  private observe(message: BusMessage): void {
    const outcome = this.outcomes.get(message.headers.correlation_id ?? '');
    if (!outcome) return;
    if (message.topic === DEAD_LETTER_TOPIC) {
      const letter = {
        originalTopic: message.headers.original_topic ?? '?',
        failureClass: message.headers.failure_class ?? '?',
        reason: message.headers.failure_reason ?? '?',
        attempts: message.headers.attempts ?? '?',
      };
      this.deadLetters.push(letter);
      outcome.deadLetters.push(letter);
      this.print(`  ✗ dead letter from ${letter.originalTopic}: ${letter.failureClass}`);
      return;
    }
    const payload = (
      JSON.parse(message.value?.toString() ?? '{}') as { payload: Record<string, unknown> }
    ).payload;
    if (message.topic === this.learnedTopic) {
      const patterns = (payload.patterns as unknown[] | undefined)?.length ?? 0;
      this.learnedBatches += 1;
      this.patternsLearned += patterns;
      outcome.batchCount = Number(payload.batch_count);
      outcome.batches.add(Number(payload.batch_index));
      outcome.patterns += patterns;
      this.print(`  ✓ learned ${String(patterns)} pattern(s) from ${String(payload.session_id)}`);
    } else if (message.topic === this.storedTopic) {
      this.stored += 1;
      outcome.stored += 1;
      if (payload.created === true) this.created += 1;
      const id = String(payload.pattern_id);
      const status = String(payload.status);
      const occurrences = Number(payload.occurrences);
      const candidateOccurrences = Math.max(
        this.patterns.get(id)?.candidateOccurrences ?? 0,
        status === 'candidate' ? occurrences : 0,
      );
      this.patterns.set(id, { status, occurrences, candidateOccurrences });
    } else {
      const transition = {
        patternId: String(payload.pattern_id),
        from: String(payload.from_status),
        to: String(payload.to_status),
      };
      const key = `${transition.from} → ${transition.to}`;
      this.transitions.set(key, (this.transitions.get(key) ?? 0) + 1);
      outcome.transitions.push(transition);
      this.print(`  ↑ pattern ${transition.patternId}: ${key}`);
    }
  }
}
