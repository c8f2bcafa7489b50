import { randomUUID } from 'node:crypto';
import type { LoggerService, Provider } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import type {
  DispatchOptions,
  ShutdownOptions,
} from '../../src/intelligence/intelligence.options.js';
import type { KafkaBusOptions } from '../../src/intelligence/bus/kafka-bus.options.js';
import { IntelligenceRuntime } from '../../src/intelligence/runtime/intelligence.runtime.js';
import { compileIntelligenceApp } from './intelligence-app.js';
import { kafkaBrokers } from './kafka-env.js';

export interface DispatchAppOptions {
  /** Consumer group of the app's dispatchers. */
  groupId: string;
  /** The handler classes (and whatever they inject). */
  providers: Provider[];
  dispatch?: DispatchOptions;
  /** @default { drainTimeoutMs: 2000 } */
  shutdown?: ShutdownOptions;
  logger?: LoggerService;
  /** Kafka bus options over the defaults below (the client, say). */
  bus?: Partial<KafkaBusOptions>;
}

/**
 * Apps on the real broker, each with its own KafkaEventBus built from the module options and a
 * unique service name; wiring must succeed (failFast). `closeAll()` in `afterEach`.
 */
export class DispatchApps {
  private readonly open = new Set<TestingModule>();

  async start(options: DispatchAppOptions): Promise<TestingModule> {
    const serviceName = `dispatch-${randomUUID().slice(0, 8)}`;
    const app = await compileIntelligenceApp(
      {
        serviceName,
        groupId: options.groupId,
        bus: {
          kind: 'kafka',
          brokers: kafkaBrokers(),
          sessionTimeoutMs: 10_000,
          heartbeatIntervalMs: 500,
          fetchMaxWaitMs: 200,
          commitIntervalMs: 200,
          ...options.bus,
        },
        introspection: { enabled: false },
        wiring: { retry: false, failFast: true },
        dispatch: { backoff: { initialMs: 50, maxMs: 200 }, ...options.dispatch },
        shutdown: options.shutdown ?? { drainTimeoutMs: 2_000 },
      },
      { providers: options.providers, ...(options.logger ? { logger: options.logger } : {}) },
    );
    this.open.add(app);
    await app.init();
    return app;
  }

  async close(app: TestingModule): Promise<void> {
    this.open.delete(app);
    await app.close();
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.open].map((app) => this.close(app)));
  }
}

/** Partitions of `topic` the app's consumer holds now. */
export function assignedPartitions(app: TestingModule, topic: string): number[] {
  return app
    .get(IntelligenceRuntime)
    .busHealth()
    .subscriptions.flatMap((subscription) => subscription.assigned[topic] ?? [])
    .sort();
}

/** A promise resolved after `ms`: the duration of a simulated piece of work. */
export function work(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
