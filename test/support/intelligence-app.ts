import { ConsoleLogger, type LoggerService, type Provider } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { EventBus } from '../../src/intelligence/bus/event-bus.js';
import { IntelligenceModule } from '../../src/intelligence/intelligence.module.js';
import type { IntelligenceModuleOptions } from '../../src/intelligence/intelligence.options.js';
import { SAMPLE_NODES } from './sample-nodes.js';

/** Silent unless TEST_LOGS is set. */
function defaultLogger(): LoggerService {
  return new ConsoleLogger({ logLevels: process.env.TEST_LOGS ? ['error', 'warn', 'log'] : [] });
}

/**
 * Compiles an app with the module and the sample nodes; `init()` runs the lifecycle hooks
 * (and may throw with failFast), `close()` the destroy hooks. With `ownedBus`, the module
 * builds its bus from `{ kind: 'memory' }` options (so it owns the connection) and the test
 * swaps in `ownedBus` for it: a faulty bus the module treats as its own.
 */
export async function compileIntelligenceApp(
  options: IntelligenceModuleOptions,
  {
    providers = SAMPLE_NODES,
    logger,
    ownedBus,
  }: { providers?: Provider[]; logger?: LoggerService; ownedBus?: EventBus } = {},
): Promise<TestingModule> {
  const builder = Test.createTestingModule({
    imports: [
      IntelligenceModule.forRoot({
        ...options,
        ...(ownedBus ? { bus: { kind: 'memory' } } : {}),
        health: false,
      }),
    ],
    providers,
  });
  if (ownedBus) builder.overrideProvider(EventBus).useValue(ownedBus);
  return builder.setLogger(logger ?? defaultLogger()).compile();
}
