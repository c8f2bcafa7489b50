import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type { IntelligenceConfig } from '../intelligence.config.js';
import { EventBus } from './event-bus.js';
import { InMemoryEventBus } from './in-memory-event-bus.js';
import { KafkaEventBus } from './kafka-event-bus.js';
import { PlatformaticKafkaEventBus } from './platformatic-event-bus.js';

/**
 * The bus the options ask for: your adapter, Kafka (through kafkajs, or @platformatic/kafka
 * with `client: 'platformatic'`, loaded only then), or the embedded default.
 */
export function createEventBus(options: IntelligenceConfig, sanitizer: LogSanitizer): EventBus {
  const bus = options.bus;
  if (bus instanceof EventBus) return bus;
  if (bus.kind === 'kafka') {
    const { kind: _kind, client, ...kafka } = bus;
    const settings = { ...kafka, clientId: bus.clientId ?? options.serviceName };
    return client === 'platformatic'
      ? new PlatformaticKafkaEventBus(settings, sanitizer)
      : new KafkaEventBus(settings, sanitizer);
  }
  return new InMemoryEventBus(
    bus.maxBufferedPerTopic === undefined ? {} : { maxBufferedPerTopic: bus.maxBufferedPerTopic },
  );
}
