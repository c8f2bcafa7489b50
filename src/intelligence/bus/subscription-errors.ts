import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type { RecoveredError, SubscriptionHealth } from './bus-message.interface.js';

interface CurrentError {
  error: string;
  at: string;
}

/**
 * What a subscription (or a bus) reports about errors: the current one (the consumer crashed,
 * a message keeps failing, publishes fail) and, once it has passed, the last one recovered
 * from, with times.
 */
export class SubscriptionErrors {
  private crash: CurrentError | undefined;
  private handler: CurrentError | undefined;
  private stuck = 0;
  private lastRecovered: RecoveredError | undefined;

  constructor(private readonly sanitizer: LogSanitizer) {}

  crashed(error: unknown): void {
    this.crash = this.current(error);
  }

  /** The consumer is running again. */
  recovered(): void {
    if (this.crash) this.recover(this.crash);
    this.crash = undefined;
  }

  /** A message failed and waits to be delivered again. */
  handlerFailed(error: unknown): void {
    this.stuck += 1;
    this.handler = this.current(error);
  }

  /** A message that had failed is handled (or no longer this member's). */
  handlerRecovered(): void {
    this.stuck = Math.max(0, this.stuck - 1);
    if (this.stuck > 0 || !this.handler) return;
    this.recover(this.handler);
    this.handler = undefined;
  }

  health(): Pick<SubscriptionHealth, 'lastError' | 'recoveredError'> {
    const current = this.crash ?? this.handler;
    return {
      ...(current ? { lastError: current.error } : {}),
      ...(this.lastRecovered ? { recoveredError: { ...this.lastRecovered } } : {}),
    };
  }

  private current(error: unknown): CurrentError {
    return { error: this.sanitizer.describeError(error), at: new Date().toISOString() };
  }

  private recover(error: CurrentError): void {
    this.lastRecovered = { ...error, recoveredAt: new Date().toISOString() };
  }
}
