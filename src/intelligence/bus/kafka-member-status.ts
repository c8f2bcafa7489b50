import { Logger } from '@nestjs/common';
import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type { SubscriptionHealth, SubscriptionState } from './bus-message.interface.js';
import { CoordinatorStatus } from './coordinator-status.js';
import { SubscriptionErrors } from './subscription-errors.js';

/**
 * What one consumer-group member of a Kafka bus (either client) reports: its state, the
 * partitions it is assigned and its errors, with one warning when it crashes (once per outage)
 * and one line when it runs again.
 */
export class KafkaMemberStatus {
  /** The partitions assigned in the current generation, by topic. */
  assigned: Record<string, number[]> = {};
  readonly errors: SubscriptionErrors;
  /** Where the group's coordinator is, as the adapter tells it (see `CoordinatorEvents`). */
  readonly coordinator: CoordinatorStatus;
  private current: SubscriptionState = 'starting';
  private readonly logger: Logger;

  constructor(
    private readonly groupId: string,
    private readonly topics: readonly string[],
    logContext: string,
    private readonly sanitizer: LogSanitizer,
  ) {
    this.logger = new Logger(logContext);
    this.errors = new SubscriptionErrors(sanitizer);
    this.coordinator = new CoordinatorStatus(sanitizer);
  }

  get state(): SubscriptionState {
    return this.current;
  }

  running(): void {
    if (this.current === 'crashed') {
      this.logger.log({ msg: 'Kafka consumer running again', groupId: this.groupId });
    }
    this.current = 'running';
    this.errors.recovered();
  }

  /** `error`: what is recorded and logged; `msg`: the warning, logged when it first crashes. */
  crashed(error: unknown, msg: string): void {
    if (this.current !== 'crashed') {
      this.logger.warn({ msg, groupId: this.groupId, error: this.sanitizer.describeError(error) });
    }
    this.current = 'crashed';
    this.errors.crashed(error);
  }

  /** The start failed (the caller sees the error): crashed, without a warning. */
  startFailed(error: unknown): void {
    this.errors.crashed(error);
    this.current = 'crashed';
  }

  stopped(): void {
    this.current = 'stopped';
    this.assigned = {};
  }

  health(lag: SubscriptionHealth['lag']): SubscriptionHealth {
    const coordinator = this.coordinator.health();
    return {
      groupId: this.groupId,
      topics: [...this.topics],
      state: this.current,
      assigned: structuredClone(this.assigned),
      lag,
      ...this.errors.health(),
      ...(coordinator ? { coordinator } : {}),
    };
  }
}
