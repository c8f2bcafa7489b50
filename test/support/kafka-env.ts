import { KafkaEventBus } from '../../src/intelligence/bus/kafka-event-bus.js';
import type { KafkaBusOptions } from '../../src/intelligence/bus/kafka-bus.options.js';
import { PlatformaticKafkaEventBus } from '../../src/intelligence/bus/platformatic-event-bus.js';
import { LogSanitizer } from '../../src/intelligence/logging/log-sanitizer.js';

type TestBusOptions = Partial<Omit<KafkaBusOptions, 'kind'>>;

/** The broker the global setup started (or `KAFKA_BROKERS` named). */
export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: the Kafka global setup did not run');
  return brokers.split(',');
}

/** Options of a bus on the test broker, tuned for fast group joins; `options` override them. */
function testBusOptions(options: TestBusOptions) {
  return {
    clientId: 'intelligence-test',
    brokers: kafkaBrokers(),
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 500,
    commitIntervalMs: 200,
    fetchMaxWaitMs: 200,
    ...options,
  };
}

/** A Kafka bus (kafkajs) on the test broker, tuned for fast group joins. */
export function testKafkaBus(
  options: TestBusOptions = {},
  sanitizer = new LogSanitizer(),
): KafkaEventBus {
  return new KafkaEventBus(testBusOptions(options), sanitizer);
}

/** A Kafka bus on @platformatic/kafka on the test broker, tuned like `testKafkaBus`. */
export function testPlatformaticBus(
  options: TestBusOptions = {},
  sanitizer = new LogSanitizer(),
): PlatformaticKafkaEventBus {
  return new PlatformaticKafkaEventBus(testBusOptions(options), sanitizer);
}
