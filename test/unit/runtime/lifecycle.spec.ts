import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import {
  HEARTBEAT_TOPIC,
  INTROSPECTION_TOPIC,
} from '../../../src/intelligence/intelligence.constants.js';
import { IntrospectionGuard } from '../../../src/intelligence/introspection/introspection.guard.js';
import {
  IntelligenceCleanupService,
  type CleanupReport,
} from '../../../src/intelligence/runtime/intelligence-cleanup.service.js';
import { IntelligenceRuntime } from '../../../src/intelligence/runtime/intelligence.runtime.js';
import { IntelligenceWiringError } from '../../../src/intelligence/runtime/wiring-result.interface.js';
import { WiringState } from '../../../src/intelligence/runtime/wiring.state.js';
import { BusConnectionError } from '../../../src/intelligence/bus/bus.errors.js';
import { FaultyBus } from '../../support/faulty-bus.js';
import { compileIntelligenceApp } from '../../support/intelligence-app.js';
import { pause, waitFor } from '../../support/wait-for.js';

function recordCleanups(app: TestingModule): CleanupReport[] {
  const reports: CleanupReport[] = [];
  const cleanup = app.get(IntelligenceCleanupService);
  const run = cleanup.run.bind(cleanup);
  jest.spyOn(cleanup, 'run').mockImplementation(async (reason) => {
    const report = await run(reason);
    reports.push(report);
    return report;
  });
  return reports;
}

describe('IntelligenceRuntime lifecycle', () => {
  const apps: TestingModule[] = [];
  /** An app on `bus`: borrowed (passed in the options), or `owned` (as if built by the module). */
  const open = async (bus: FaultyBus, extra: object = {}, { owned = false } = {}) => {
    const app = await compileIntelligenceApp(
      {
        serviceName: 'lifecycle-test',
        bus,
        introspection: { heartbeatIntervalMs: 20 },
        wiring: { retry: false },
        ...extra,
      },
      owned ? { ownedBus: bus } : {},
    );
    apps.push(app);
    return app;
  };

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('runs the same cleanup sequence on a failed wiring and on shutdown', async () => {
    const bus = new FaultyBus();
    bus.subscribeError = new Error('no subscriptions today');
    const app = await open(bus);
    const reports = recordCleanups(app);
    await app.init();
    bus.subscribeError = undefined;
    expect(await app.get(IntelligenceRuntime).wire()).toMatchObject({ ok: true });
    await app.close();
    expect(reports.map((report) => report.reason)).toEqual(['wiring-failed', 'shutdown']);
    expect(reports[0]?.steps).toEqual([
      'stop-heartbeats',
      'reset-guard',
      'clear-event-bus',
      'clear-introspection-nodes',
      'clear-introspection-proxies',
      'clear-dispatch-engine',
      'close-database',
    ]);
    expect(reports[1]?.steps).toEqual(reports[0]?.steps);
    expect(app.get(IntelligenceRuntime).status().state).toBe('stopped');
  });

  it('publishes a shutdown introspection event per node and stops heartbeats on close', async () => {
    const bus = new FaultyBus();
    const app = await open(bus);
    await app.init();
    await app.close();
    const events = bus.envelopes(INTROSPECTION_TOPIC).map((envelope) => envelope.payload);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          node_name: 'alpha-effect',
          reason: 'startup',
          current_state: 'active',
        }),
        expect.objectContaining({
          node_name: 'alpha-effect',
          reason: 'shutdown',
          current_state: 'stopped',
        }),
        expect.objectContaining({ node_name: 'gamma-compute', reason: 'shutdown' }),
      ]),
    );
    const beats = bus.envelopes(HEARTBEAT_TOPIC).length;
    await pause(60);
    expect(bus.envelopes(HEARTBEAT_TOPIC)).toHaveLength(beats);
  });

  it('closes twice without error, cleaning up twice (a second shutdown is never skipped)', async () => {
    const bus = new FaultyBus();
    const app = await open(bus, {}, { owned: true });
    const reports = recordCleanups(app);
    await app.init();
    await app.close();
    await app.close();
    expect(reports.map((report) => report.reason)).toEqual(['shutdown', 'shutdown']);
    expect(bus.disconnects).toBe(1);
  });

  it('throws from init with failFast, after the same cleanup, and closes cleanly afterwards', async () => {
    const bus = new FaultyBus();
    bus.subscribeError = new Error('subscribe exploded');
    const app = await open(bus, { wiring: { failFast: true } });
    const reports = recordCleanups(app);
    await expect(app.init()).rejects.toThrow(IntelligenceWiringError);
    expect(reports.map((report) => report.reason)).toEqual(['wiring-failed']);
    expect(app.get(WiringState).holdsAnything).toBe(false);
    expect(app.get(IntrospectionGuard).acquired).toBe(false);
    await app.close();
    expect(reports.map((report) => report.reason)).toEqual(['wiring-failed', 'shutdown']);
  });

  it('waits for a wiring in progress when closed during it, then cleans it up', async () => {
    const bus = new FaultyBus();
    let connected: () => void = () => undefined;
    bus.connectGate = new Promise<void>((resolve) => (connected = resolve));
    const app = await open(bus, {}, { owned: true });
    const initializing = app.init();
    await waitFor(() => bus.connects === 1, 'connect in progress');
    expect(app.get(IntelligenceRuntime).status().state).toBe('wiring');
    const closing = app.close();
    connected();
    await Promise.all([initializing, closing]);
    expect(app.get(IntelligenceRuntime).status().state).toBe('stopped');
    expect(app.get(WiringState).holdsAnything).toBe(false);
    expect(bus.health().connected).toBe(false);
  });

  it.each([
    ['permanent', { kind: 'permanent', cause: 'authentication', hint: 'fix it' }, 1_900, 60_000],
    ['transient', { kind: 'transient', cause: 'unreachable', hint: 'wait' }, 0, 1_000],
  ] as const)(
    'retries a %s connect failure at the pace it calls for',
    async (_, failure, atLeastMs, belowMs) => {
      const bus = new FaultyBus();
      const error = new BusConnectionError('refused');
      error.failure = { ...failure };
      bus.connectError = error;
      const app = await open(
        bus,
        { wiring: { retry: { initialMs: 20, maxMs: 2_000 } } },
        { owned: true },
      );
      await app.init();
      expect(app.get(IntelligenceRuntime).status().lastResult?.failure).toEqual(failure);
      await waitFor(() => bus.connects >= 2, 'the retry', 10_000);
      const [first = 0, second = 0] = bus.connectTimes;
      expect(second - first).toBeGreaterThanOrEqual(atLeastMs);
      expect(second - first).toBeLessThan(belowMs);
    },
    15_000,
  );

  it('never disconnects a borrowed bus: its other subscribers keep their messages', async () => {
    const bus = new FaultyBus();
    await bus.connect();
    const others: string[] = [];
    await bus.subscribe(['onex.evt.app.own-topic.v1'], 'app-own-group', (message) => {
      others.push(message.value?.toString() ?? '');
      return Promise.resolve();
    });
    bus.subscribeError = new Error('module subscribe refused');
    const app = await open(bus);
    await app.init();
    expect(app.get(IntelligenceRuntime).status().state).toBe('failed');
    await bus.publish('onex.evt.app.own-topic.v1', { value: 'after-failed-wiring' });
    bus.subscribeError = undefined;
    await app.get(IntelligenceRuntime).wire();
    expect(app.get(IntelligenceRuntime).status().state).toBe('wired');
    await app.close();
    await bus.publish('onex.evt.app.own-topic.v1', { value: 'after-close' });
    await waitFor(() => others.length === 2, 'the app subscriber still receives');
    expect(others).toEqual(['after-failed-wiring', 'after-close']);
    expect(bus.disconnects).toBe(0);
    expect(bus.connects).toBe(1);
    // The module closed the subscription it made, and only that one.
    expect(bus.handedOut[0]?.closeCalls).toBe(0);
    expect(bus.handedOut[1]?.closeCalls).toBeGreaterThan(0);
    await bus.disconnect();
  });

  it('undoes a subscription that completes while its wiring is being rolled back', async () => {
    const bus = new FaultyBus();
    bus.subscribeResolveDelayMs = 80;
    const app = await open(bus);
    const initializing = app.init();
    await waitFor(() => bus.handedOut.length === 1, 'subscribed, not yet resolved');
    await app.get(IntelligenceCleanupService).run('wiring-failed');
    await initializing;
    const runtime = app.get(IntelligenceRuntime);
    expect(runtime.status().lastResult).toMatchObject({
      ok: false,
      error: expect.stringMatching(/cleaned up while subscribing/),
    });
    expect(bus.handedOut[0]?.closeCalls).toBe(1);
    expect(app.get(WiringState).subscriptions).toEqual([]);
  });

  it('re-wires in the background with backoff until it succeeds', async () => {
    const bus = new FaultyBus();
    bus.subscribeError = new Error('not yet');
    const app = await open(bus, { wiring: { retry: { initialMs: 20, maxMs: 40 } } });
    await app.init();
    const runtime = app.get(IntelligenceRuntime);
    expect(runtime.status()).toMatchObject({ state: 'retrying', failedAttempts: 1 });
    await waitFor(() => runtime.status().failedAttempts >= 3, 'more attempts');
    bus.subscribeError = undefined;
    await waitFor(() => runtime.status().state === 'wired', 'wired by the retry');
    expect(runtime.status().failedAttempts).toBe(0);
  });

  it('starts, stops and starts again in one process, on the same bus', async () => {
    const bus = new FaultyBus();
    for (let round = 0; round < 3; round++) {
      const app = await open(bus);
      await app.init();
      expect(app.get(IntelligenceRuntime).status().state).toBe('wired');
      await app.close();
    }
    expect(
      bus
        .envelopes(INTROSPECTION_TOPIC)
        .filter((e) => (e.payload as { reason: string }).reason === 'startup'),
    ).toHaveLength(9);
  });

  it('gives two apps in one process their own guards: closing one leaves the other beating', async () => {
    const busA = new FaultyBus();
    const busB = new FaultyBus();
    const appA = await open(busA);
    const appB = await open(busB);
    await Promise.all([appA.init(), appB.init()]);
    expect(appA.get(IntrospectionGuard)).not.toBe(appB.get(IntrospectionGuard));
    expect(appA.get(IntrospectionGuard).acquired).toBe(true);
    await appA.close();
    expect(appA.get(IntrospectionGuard).acquired).toBe(false);
    expect(appB.get(IntrospectionGuard).acquired).toBe(true);
    const beats = busB.envelopes(HEARTBEAT_TOPIC).length;
    await waitFor(() => busB.envelopes(HEARTBEAT_TOPIC).length >= beats + 2, 'B still beating');
  });
});
