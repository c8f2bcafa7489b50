export * from './bus/bus-message.interface.js';
export * from './bus/bus.errors.js';
export { EventBus } from './bus/event-bus.js';
export { InMemoryEventBus, type InMemoryEventBusOptions } from './bus/in-memory-event-bus.js';
export { KafkaEventBus } from './bus/kafka-event-bus.js';
export type { KafkaBusOptions } from './bus/kafka-bus.options.js';
export type { TopicSpec } from './bus/kafka-topic-admin.js';
export * from './intelligence.constants.js';
export { IntelligenceModule } from './intelligence.module.js';
export type { IntelligenceModuleExtras } from './intelligence.module-definition.js';
export * from './intelligence.options.js';
export { LogSanitizer, type LogSanitizerOptions } from './logging/log-sanitizer.js';
export { INTELLIGENCE_REDACT_PATHS } from './logging/redact-paths.js';
export {
  IntelligenceRuntime,
  type RuntimeState,
  type RuntimeStatus,
} from './runtime/intelligence.runtime.js';
