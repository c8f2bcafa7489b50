import { ConfigurableModuleBuilder } from '@nestjs/common';
import { createHealthController } from './health/health.controller.js';
import { createMetricsController } from './metrics/metrics.controller.js';
import type { IntelligenceModuleOptions } from './intelligence.options.js';

/** Module-level settings known when the module is declared (also in `forRootAsync`). */
export interface IntelligenceModuleExtras {
  /** Make the module's providers available app-wide. @default false */
  isGlobal: boolean;
  /** The built-in health controller (`path`, `path/live`, `path/ready`); `false` for none. @default { path: 'health' } */
  health: { path?: string } | false;
  /** Prometheus metrics at `path`; off unless given. @default false */
  metrics: { path?: string } | false;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: INTELLIGENCE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<IntelligenceModuleOptions>({ moduleName: 'Intelligence' })
  .setClassMethodName('forRoot')
  .setExtras<IntelligenceModuleExtras>(
    { isGlobal: false, health: {}, metrics: false },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      controllers: [
        ...(extras.health === false
          ? []
          : [createHealthController(extras.health.path ?? 'health')]),
        ...(extras.metrics === false
          ? []
          : [createMetricsController(extras.metrics.path ?? 'metrics')]),
      ],
    }),
  )
  .build();
