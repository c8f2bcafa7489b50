export * from './bus/bus-message.interface.js';
export type { BusFailure } from './bus/bus-failure.js';
export * from './bus/bus.errors.js';
export { EventBus } from './bus/event-bus.js';
export { InMemoryEventBus, type InMemoryEventBusOptions } from './bus/in-memory-event-bus.js';
export { KafkaEventBus } from './bus/kafka-event-bus.js';
export { PlatformaticKafkaEventBus } from './bus/platformatic-event-bus.js';
export type { KafkaBusOptions } from './bus/kafka-bus.options.js';
export type { TopicSpec } from './bus/kafka-topic-admin.js';
export type { TopicReader, TopicReadOptions } from './bus/topic-reader.js';
export { DispatchEngine, DispatchEngineStateError } from './dispatch/dispatch.engine.js';
export type { DispatchMetricsSnapshot, HandlerStats } from './dispatch/dispatch.metrics.js';
export {
  PermanentHandlerError,
  type DispatchOutcome,
  type HandlerFailure,
} from './delivery/dispatch-outcome.interface.js';
export { createEnvelope, HEADERS, toOutgoing, type Envelope } from './wire/envelope.js';
export { DeliveryAbandonedError, HandlerTimeoutError } from './delivery/handler-watch.js';
export type { InvalidReason } from './wire/envelope.codec.js';
export {
  IntelligenceHandler,
  type IntelligenceHandlerOptions,
} from './dispatch/intelligence-handler.decorator.js';
export type { DispatchContext, PublishOptions } from './dispatch/dispatch-context.interface.js';
export type { IntelligenceEvent } from './wire/intelligence-event.interface.js';
export { IntelligenceNode } from './dispatch/intelligence-node.decorator.js';
export { HandlerDiscoveryError } from './dispatch/intelligence.explorer.js';
export { parseTopic, topicCategory, type MessageCategory } from './wire/topic-name.js';
export {
  IntelligenceHealthIndicator,
  type IntelligenceHealthDetails,
} from './health/intelligence-health.indicator.js';
export type { IntelligenceConfig } from './intelligence.config.js';
export * from './intelligence.constants.js';
export { IntelligenceModule } from './intelligence.module.js';
export type { IntelligenceModuleExtras } from './intelligence.module-definition.js';
export * from './intelligence.options.js';
export { HeartbeatProxy } from './introspection/heartbeat.proxy.js';
export {
  IntrospectionAlreadyPublishedError,
  IntrospectionGuard,
} from './introspection/introspection.guard.js';
export type {
  HeartbeatPayload,
  IntrospectionEventPayload,
} from './introspection/introspection.events.js';
export type {
  IntelligenceNodeMetadata,
  IntrospectionNode,
  NodeKind,
} from './introspection/introspection-node.interface.js';
export { IntelligenceMetrics } from './metrics/intelligence-metrics.service.js';
export { IntrospectionPublisher } from './introspection/introspection.publisher.js';
export { nodeIdFor } from './introspection/node-id.js';
export { LogSanitizer, type LogSanitizerOptions } from './logging/log-sanitizer.js';
export {
  INTELLIGENCE_REDACT_PATHS,
  requestWithoutQuery,
  type LoggedRequest,
} from './logging/redact-paths.js';
export {
  IntelligenceCleanupService,
  type CleanupReason,
  type CleanupReport,
  type CleanupStep,
} from './runtime/intelligence-cleanup.service.js';
export {
  IntelligenceRuntime,
  type RuntimeState,
  type RuntimeStatus,
} from './runtime/intelligence.runtime.js';
export { IntelligenceWiringError, type WiringResult } from './runtime/wiring-result.interface.js';
export type {
  DatabaseClient,
  QueryConfig,
  QueryResult,
  QueryResultRow,
} from './database/database-client.interface.js';
export { migrate, type MigrateOptions, type MigrationRun } from './database/database-migrations.js';
export {
  DatabasePool,
  type DatabaseHealth,
  type IsolationLevel,
} from './database/database-pool.js';
export { EXPECTED_MIGRATION, REQUIRED_TABLES } from './database/database-schema.js';
export { DatabaseTransaction } from './database/database-transaction.js';
export {
  DatabaseClosedError,
  DatabaseSchemaError,
  TransactionClosedError,
} from './database/database.errors.js';
export type { DatabaseOptions, IdempotencyRetentionOptions } from './database/database.options.js';
export { DuplicateDeliveryError } from './delivery/idempotency-check.js';
export { IdempotencyStore, type IdempotencyScope } from './delivery/idempotency-store.js';
export {
  InMemoryIdempotencyStore,
  type InMemoryIdempotencyOptions,
} from './delivery/in-memory-idempotency.store.js';
export { PostgresIdempotencyStore } from './delivery/postgres-idempotency.store.js';
export {
  DeadLetterReplayer,
  type DeadLetterListOptions,
  type DeadLetterReplayerConfig,
  type ReplayOptions,
} from './delivery/dead-letter-replayer.js';
export type {
  DeadLetterEntry,
  DeadLetterRetry,
  EncodedBytes,
  OriginalPosition,
} from './delivery/dead-letter-entry.js';
export {
  DeadLetterSelectionError,
  type DeadLetterSelection,
} from './delivery/dead-letter-selection.js';
export type { PurgePartitionReport, PurgeReport } from './delivery/dead-letter-purge.js';
export { DEAD_LETTER_REPLAY_TOPIC, type ReplayRecord } from './delivery/replay-ledger.js';
export { REPLAYED_FROM_HEADER } from './delivery/replay-message.js';
export {
  DeadLetterReplayError,
  type ReplayedEntry,
  type ReplayReport,
  type SkippedEntry,
} from './delivery/replay-report.js';
export { NoDatabaseError } from './dispatch/handler-context.js';
export { MessageTracing } from './tracing/message-tracing.js';
export type {
  ConsumeTrace,
  PublishKind,
  PublishTrace,
  TraceParent,
} from './tracing/message-trace.interface.js';
export { DatabaseNotWiredError, IntelligenceDatabase } from './runtime/intelligence-database.js';
export {
  RETRY_HEADERS,
  retryGroupId,
  retryTierTopic,
  type RetryHistoryEntry,
  type RetryOrigin,
} from './delivery/retry-tiers.js';
export { DEAD_LETTER_HEADERS } from './delivery/dead-letter.js';
