import { ConsoleLogger, type LoggerService, type Provider } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { IntelligenceModule } from '../../src/intelligence/intelligence.module.js';
import type { IntelligenceModuleOptions } from '../../src/intelligence/intelligence.options.js';
import { SAMPLE_NODES } from './sample-nodes.js';

/** Silent unless TEST_LOGS is set. */
function defaultLogger(): LoggerService {
  return new ConsoleLogger({ logLevels: process.env.TEST_LOGS ? ['error', 'warn', 'log'] : [] });
}

/**
 * Compiles an app with the module and the sample nodes; `init()` runs the lifecycle hooks
 * (and may throw with failFast), `close()` the destroy hooks.
 */
export async function compileIntelligenceApp(
  options: IntelligenceModuleOptions,
  { providers = SAMPLE_NODES, logger }: { providers?: Provider[]; logger?: LoggerService } = {},
): Promise<TestingModule> {
  return Test.createTestingModule({
    imports: [IntelligenceModule.forRoot({ ...options, health: false })],
    providers,
  })
    .setLogger(logger ?? defaultLogger())
    .compile();
}
