import { Module } from '@nestjs/common';
import { createEventBus } from './bus/create-event-bus.js';
import { EventBus } from './bus/event-bus.js';
import { ConfigurableModuleClass, INTELLIGENCE_OPTIONS } from './intelligence.module-definition.js';
import { validateIntelligenceOptions } from './intelligence.options-validation.js';
import type { IntelligenceModuleOptions } from './intelligence.options.js';
import { LogSanitizer } from './logging/log-sanitizer.js';
import { IntelligenceRuntime } from './runtime/intelligence.runtime.js';

/**
 * Runs event-driven intelligence nodes on an event bus (embedded or Kafka).
 *
 * ```ts
 * IntelligenceModule.forRoot({ serviceName: 'my-service', bus: { kind: 'kafka', brokers } })
 * ```
 */
@Module({
  providers: [
    {
      provide: LogSanitizer,
      useFactory: (options: IntelligenceModuleOptions) =>
        new LogSanitizer(validateIntelligenceOptions(options).logging),
      inject: [INTELLIGENCE_OPTIONS],
    },
    {
      provide: EventBus,
      useFactory: (options: IntelligenceModuleOptions, sanitizer: LogSanitizer) =>
        createEventBus(options, sanitizer),
      inject: [INTELLIGENCE_OPTIONS, LogSanitizer],
    },
    IntelligenceRuntime,
  ],
  exports: [LogSanitizer, EventBus, IntelligenceRuntime],
})
export class IntelligenceModule extends ConfigurableModuleClass {}
