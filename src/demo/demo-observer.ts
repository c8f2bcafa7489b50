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

/** Watches the chain's output topics with a consumer group of its own, like any other service. */
export class DemoObserver {
  patternsLearned = 0;
  learnedBatches = 0;
  stored = 0;
  created = 0;
  readonly transitions = new Map<string, number>();
  readonly deadLetters: DeadLetterSeen[] = [];
  lastActivity = Date.now();
  private subscription: Subscription | undefined;

  constructor(private readonly print: (line: string) => void) {}

  async start(bus: EventBus): Promise<void> {
    this.subscription = await bus.subscribe(
      [
        PATTERN_LEARNED_TOPIC,
        PATTERN_STORED_TOPIC,
        PATTERN_LIFECYCLE_TRANSITIONED_TOPIC,
        DEAD_LETTER_TOPIC,
      ],
      'demo-observer',
      (message) => {
        this.observe(message);
        return Promise.resolve();
      },
      { fromBeginning: true },
    );
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
  }

  private observe(message: BusMessage): void {
    this.lastActivity = Date.now();
    if (message.topic === DEAD_LETTER_TOPIC) {
      const letter = {
        originalTopic: message.headers.original_topic ?? '?',
        failureClass: message.headers.failure_class ?? '?',
        reason: message.headers.failure_reason ?? '?',
        attempts: message.headers.attempts ?? '?',
      };
      this.deadLetters.push(letter);
      this.print(`  ✗ dead letter from ${letter.originalTopic}: ${letter.failureClass}`);
      return;
    }
    const payload = (
      JSON.parse(message.value?.toString() ?? '{}') as { payload: Record<string, unknown> }
    ).payload;
    if (message.topic === PATTERN_LEARNED_TOPIC) {
      const patterns = (payload.patterns as unknown[] | undefined)?.length ?? 0;
      this.learnedBatches += 1;
      this.patternsLearned += patterns;
      this.print(`  ✓ learned ${String(patterns)} pattern(s) from ${String(payload.session_id)}`);
    } else if (message.topic === PATTERN_STORED_TOPIC) {
      this.stored += 1;
      if (payload.created === true) this.created += 1;
    } else {
      const key = `${String(payload.from_status)} → ${String(payload.to_status)}`;
      this.transitions.set(key, (this.transitions.get(key) ?? 0) + 1);
      this.print(`  ↑ pattern ${String(payload.pattern_id)}: ${key}`);
    }
  }
}
