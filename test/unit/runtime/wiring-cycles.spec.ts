import { describe, expect, it } from '@jest/globals';
import { IntelligenceCleanupService } from '../../../src/intelligence/runtime/intelligence-cleanup.service.js';
import { IntelligenceRuntime } from '../../../src/intelligence/runtime/intelligence.runtime.js';
import { WiringState } from '../../../src/intelligence/runtime/wiring.state.js';
import { activeHandles as handleCounts } from '../../support/active-handles.js';
import { FaultyBus } from '../../support/faulty-bus.js';
import { compileIntelligenceApp } from '../../support/intelligence-app.js';

const CYCLES = 1_000;

describe(`${String(CYCLES)} wire → fail → cleanup → wire cycles`, () => {
  it('leave no active handle behind', async () => {
    const bus = new FaultyBus();
    const failure = new Error('subscribe refused');
    const app = await compileIntelligenceApp(
      {
        serviceName: 'cycles',
        introspection: { heartbeatIntervalMs: 60_000 },
        wiring: { retry: false },
      },
      { ownedBus: bus },
    );
    await app.init();
    const runtime = app.get(IntelligenceRuntime);
    const cleanup = app.get(IntelligenceCleanupService);
    await cleanup.run('shutdown');
    const before = handleCounts();

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      bus.subscribeError = failure;
      const failed = await runtime.wire();
      bus.subscribeError = undefined;
      const wired = await runtime.wire();
      if (failed.ok || !wired.ok) throw new Error(`cycle ${String(cycle)} went wrong`);
      await cleanup.run('shutdown');
    }

    expect(handleCounts()).toEqual(before);
    expect(app.get(WiringState).holdsAnything).toBe(false);
    expect(bus.connects).toBe(2 * CYCLES + 1);
    await app.close();
  }, 60_000);
});
