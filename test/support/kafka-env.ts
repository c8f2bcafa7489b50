import { KafkaEventBus } from '../../src/intelligence/bus/kafka-event-bus.js';
import type { KafkaBusOptions } from '../../src/intelligence/bus/kafka-bus.options.js';
import { LogSanitizer } from '../../src/intelligence/logging/log-sanitizer.js';

/** The broker the global setup started (or `KAFKA_BROKERS` named). */
export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: the Kafka global setup did not run');
  return brokers.split(',');
}

/** A Kafka bus on the test broker, tuned for fast group joins. */
export function testKafkaBus(
  options: Partial<Omit<KafkaBusOptions, 'kind'>> = {},
  sanitizer = new LogSanitizer(),
): KafkaEventBus {
  return new KafkaEventBus(
    {
      clientId: 'intelligence-test',
      brokers: kafkaBrokers(),
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 500,
      commitIntervalMs: 200,
      fetchMaxWaitMs: 200,
      ...options,
    },
    sanitizer,
  );
}
