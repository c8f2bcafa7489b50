import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { createEventBus } from './bus/create-event-bus.js';
import { EventBus } from './bus/event-bus.js';
import { DispatchEngine } from './dispatch/dispatch.engine.js';
import { IntelligenceExplorer } from './dispatch/intelligence.explorer.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { DeadLetterReplayer } from './delivery/dead-letter-replayer.js';
import { MessageDelivery } from './delivery/message.delivery.js';
import {
  INTELLIGENCE_CONFIG,
  resolveIntelligenceConfig,
  type IntelligenceConfig,
} from './intelligence.config.js';
import { ConfigurableModuleClass, INTELLIGENCE_OPTIONS } from './intelligence.module-definition.js';
import { validateIntelligenceOptions } from './intelligence.options-validation.js';
import type { IntelligenceModuleOptions } from './intelligence.options.js';
import { IntelligenceHealthIndicator } from './health/intelligence-health.indicator.js';
import { IntelligenceMetrics } from './metrics/intelligence-metrics.service.js';
import { IntrospectionGuard } from './introspection/introspection.guard.js';
import { IntrospectionPublisher } from './introspection/introspection.publisher.js';
import { LogSanitizer } from './logging/log-sanitizer.js';
import { IntelligenceDatabase } from './runtime/intelligence-database.js';
import { IntelligenceCleanupService } from './runtime/intelligence-cleanup.service.js';
import { IntelligenceRuntime } from './runtime/intelligence.runtime.js';
import { MessageTracing } from './tracing/message-tracing.js';
import { WiringState } from './runtime/wiring.state.js';

/**
 * Runs event-driven intelligence nodes on an event bus (embedded or Kafka): discovers
 * `@IntelligenceNode` handlers, wires them at init, announces the nodes, and cleans up.
 *
 * ```ts
 * IntelligenceModule.forRoot({ serviceName: 'my-service', bus: { kind: 'kafka', brokers } })
 * ```
 */
@Module({
  // terminus would log every failing probe at ERROR (with the request); the runtime logs each
  // state change once instead.
  imports: [DiscoveryModule, TerminusModule.forRoot({ logger: false })],
  providers: [
    {
      provide: INTELLIGENCE_CONFIG,
      useFactory: (options: IntelligenceModuleOptions) => {
        validateIntelligenceOptions(options);
        return resolveIntelligenceConfig(options);
      },
      inject: [INTELLIGENCE_OPTIONS],
    },
    {
      provide: LogSanitizer,
      useFactory: (config: IntelligenceConfig) => new LogSanitizer(config.logging),
      inject: [INTELLIGENCE_CONFIG],
    },
    {
      provide: EventBus,
      useFactory: (config: IntelligenceConfig, sanitizer: LogSanitizer) =>
        createEventBus(config, sanitizer),
      inject: [INTELLIGENCE_CONFIG, LogSanitizer],
    },
    {
      provide: MessageTracing,
      useFactory: (config: IntelligenceConfig, sanitizer: LogSanitizer) =>
        MessageTracing.load(config.tracing.enabled, sanitizer),
      inject: [INTELLIGENCE_CONFIG, LogSanitizer],
    },
    IntelligenceExplorer,
    DispatchEngine,
    { provide: Dispatcher, useExisting: DispatchEngine },
    MessageDelivery,
    DeadLetterReplayer,
    IntrospectionGuard,
    IntrospectionPublisher,
    WiringState,
    IntelligenceDatabase,
    IntelligenceCleanupService,
    IntelligenceRuntime,
    IntelligenceHealthIndicator,
    IntelligenceMetrics,
  ],
  exports: [
    LogSanitizer,
    EventBus,
    DispatchEngine,
    IntrospectionGuard,
    IntrospectionPublisher,
    IntelligenceCleanupService,
    IntelligenceDatabase,
    IntelligenceRuntime,
    IntelligenceHealthIndicator,
    IntelligenceMetrics,
    MessageTracing,
    DeadLetterReplayer,
  ],
})
export class IntelligenceModule extends ConfigurableModuleClass {}
