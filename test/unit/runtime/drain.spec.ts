import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { createEnvelope, toOutgoing } from '../../../src/intelligence/wire/envelope.js';
import { IntelligenceHandler } from '../../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import type { IntelligenceEvent } from '../../../src/intelligence/wire/intelligence-event.interface.js';
import { captureLogs } from '../../support/capture-logs.js';
import { FaultyBus } from '../../support/faulty-bus.js';
import { compileIntelligenceApp } from '../../support/intelligence-app.js';
import { waitFor } from '../../support/wait-for.js';

const TOPIC = 'onex.cmd.test.slow-work.v1';
const work = { delayMs: 0, started: [] as string[], finished: [] as string[] };

@Injectable()
class SlowWorker {
  @IntelligenceHandler(TOPIC)
  async handle(event: IntelligenceEvent<{ id: string }>): Promise<void> {
    work.started.push(event.payload.id);
    await new Promise((resolve) => setTimeout(resolve, work.delayMs));
    work.finished.push(event.payload.id);
  }
}

describe('shutdown drain', () => {
  const apps: TestingModule[] = [];
  const boot = async (bus: FaultyBus, drainTimeoutMs: number, logger?: object) => {
    const app = await compileIntelligenceApp(
      {
        serviceName: 'drain',
        bus,
        introspection: { enabled: false },
        wiring: { retry: false },
        shutdown: { drainTimeoutMs },
      },
      { providers: [SlowWorker], ...(logger ? { logger: logger as never } : {}) },
    );
    apps.push(app);
    await app.init();
    return app;
  };
  const send = (bus: FaultyBus, id: string) =>
    bus.publish(TOPIC, toOutgoing(createEnvelope({ topic: TOPIC, payload: { id } }), id));

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    work.started.length = 0;
    work.finished.length = 0;
  });

  it('lets in-flight handlers finish within the deadline and acknowledges them', async () => {
    const bus = new FaultyBus();
    work.delayMs = 100;
    const first = await boot(bus, 2_000);
    await send(bus, 'a');
    await waitFor(() => work.started.includes('a'), 'started');
    await first.close();
    expect(work.finished).toEqual(['a']);
    work.delayMs = 0;
    await boot(bus, 2_000);
    await send(bus, 'b');
    await waitFor(() => work.finished.includes('b'), 'next app handles new work');
    expect(work.started).toEqual(['a', 'b']);
  });

  it('abandons what still runs at the deadline, logs it, and leaves it for redelivery', async () => {
    const logs = captureLogs();
    try {
      const bus = new FaultyBus();
      work.delayMs = 1_000;
      const first = await boot(bus, 50, logs.logger);
      await send(bus, 'slow');
      await waitFor(() => work.started.includes('slow'), 'started');
      await first.close();
      expect(work.finished).not.toContain('slow');
      expect(logs.text()).toMatch(/Drain deadline reached[\s\S]*SlowWorker/);
      work.delayMs = 0;
      await boot(bus, 2_000);
      await waitFor(() => work.started.filter((id) => id === 'slow').length === 2, 'redelivered');
    } finally {
      logs.restore();
    }
  });

  it('logs no drain warning when nothing is pending, even if closing the consumer is slow', async () => {
    class SlowCloseBus extends FaultyBus {
      override async subscribe(...args: Parameters<FaultyBus['subscribe']>) {
        const subscription = await super.subscribe(...args);
        return {
          ...subscription,
          close: async () => {
            await new Promise((resolve) => setTimeout(resolve, 150));
            await subscription.close();
          },
        };
      }
    }
    const logs = captureLogs();
    try {
      const bus = new SlowCloseBus();
      const app = await boot(bus, 20, logs.logger);
      await send(bus, 'quick');
      await waitFor(() => work.finished.includes('quick'), 'handled');
      apps.splice(apps.indexOf(app), 1);
      await app.close();
      expect(logs.text()).toMatch(/Cleanup finished/);
      expect(logs.text()).not.toMatch(/Drain deadline reached/);
    } finally {
      logs.restore();
    }
  });
});
