import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type { IntelligenceConfig } from '../intelligence.config.js';
import { EventBus } from './event-bus.js';
import { InMemoryEventBus } from './in-memory-event-bus.js';
import { KafkaEventBus } from './kafka-event-bus.js';

/** The bus the options ask for: your adapter, Kafka, or the embedded default. */
export function createEventBus(options: IntelligenceConfig, sanitizer: LogSanitizer): EventBus {
  const bus = options.bus;
  if (bus instanceof EventBus) return bus;
  if (bus.kind === 'kafka') {
    const { kind: _kind, ...kafka } = bus;
    return new KafkaEventBus(
      { ...kafka, clientId: bus.clientId ?? options.serviceName },
      sanitizer,
    );
  }
  return new InMemoryEventBus(
    bus.maxBufferedPerTopic === undefined ? {} : { maxBufferedPerTopic: bus.maxBufferedPerTopic },
  );
}
