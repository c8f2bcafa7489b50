import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { EventBus } from '../bus/event-bus.js';
import type { BusHealth } from '../bus/bus-message.interface.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';

export type RuntimeState =
  'idle' | 'wiring' | 'wired' | 'failed' | 'retrying' | 'draining' | 'stopped';

export interface RuntimeStatus {
  state: RuntimeState;
  lastError?: string;
}

/** Wires the module onto the bus at init and takes it down at destroy. */
@Injectable()
export class IntelligenceRuntime implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(IntelligenceRuntime.name);
  private state: RuntimeState = 'idle';
  private lastError: string | undefined;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(LogSanitizer) private readonly sanitizer: LogSanitizer,
  ) {}

  async onModuleInit(): Promise<void> {
    this.state = 'wiring';
    try {
      await this.bus.connect();
      this.state = 'wired';
    } catch (error) {
      this.state = 'failed';
      this.lastError = this.sanitizer.describeError(error);
      this.logger.error({ msg: 'Wiring failed', error: this.lastError });
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.state = 'draining';
    await this.bus.disconnect();
    this.state = 'stopped';
  }

  status(): RuntimeStatus {
    return {
      state: this.state,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  busHealth(): BusHealth {
    return this.bus.health();
  }
}
