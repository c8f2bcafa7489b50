import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { DispatchEngine } from '../../../src/intelligence/dispatch/dispatch.engine.js';
import {
  HEARTBEAT_TOPIC,
  INTROSPECTION_TOPIC,
} from '../../../src/intelligence/intelligence.constants.js';
import { HeartbeatProxy } from '../../../src/intelligence/introspection/heartbeat.proxy.js';
import { IntrospectionGuard } from '../../../src/intelligence/introspection/introspection.guard.js';
import { IntrospectionPublisher } from '../../../src/intelligence/introspection/introspection.publisher.js';
import { IntelligenceCleanupService } from '../../../src/intelligence/runtime/intelligence-cleanup.service.js';
import { IntelligenceRuntime } from '../../../src/intelligence/runtime/intelligence.runtime.js';
import { WiringState } from '../../../src/intelligence/runtime/wiring.state.js';
import { captureLogs } from '../../support/capture-logs.js';
import { FaultyBus } from '../../support/faulty-bus.js';
import { activeHandles as handles } from '../../support/active-handles.js';
import { compileIntelligenceApp } from '../../support/intelligence-app.js';
import { waitFor } from '../../support/wait-for.js';

const CANARIES = {
  subscribe: 'canary-subscribe-Pw-93kd',
  stop: 'canary-stop-Tok-41xz',
  url: 'canary-url-Secret-77',
};

// eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(proxy)
const realStop = HeartbeatProxy.prototype.stopIntrospectionTasks;

describe('wiring failure after introspection was published (the original fix, tested)', () => {
  let bus: FaultyBus;
  let app: TestingModule;
  let logs: ReturnType<typeof captureLogs>;
  const order: string[] = [];

  beforeEach(async () => {
    order.length = 0;
    logs = captureLogs();
    bus = new FaultyBus();
    bus.subscribeError = new Error(
      `subscribe refused: password=${CANARIES.subscribe} via https://svc:${CANARIES.url}@broker.internal`,
    );
    app = await compileIntelligenceApp(
      {
        serviceName: 'failure-test',
        bus,
        introspection: { heartbeatIntervalMs: 25 },
        wiring: { retry: false },
      },
      { logger: logs.logger, ownedBus: bus },
    );
    jest.spyOn(HeartbeatProxy.prototype, 'stopIntrospectionTasks').mockImplementation(function (
      this: HeartbeatProxy,
    ) {
      order.push(`stop-called:${this.node.name}`);
      return realStop.call(this).then(() => {
        order.push(`stop-resolved:${this.node.name}`);
      });
    });
    const guard = app.get(IntrospectionGuard);
    const originalReset = guard.reset.bind(guard);
    jest.spyOn(guard, 'reset').mockImplementation(() => {
      order.push('guard-reset');
      originalReset();
    });
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await app.close();
    logs.restore();
  });

  it('stops every heartbeat (awaited) before resetting the guard, and clears every reference', async () => {
    const before = handles();
    await app.init();
    const runtime = app.get(IntelligenceRuntime);
    const state = app.get(WiringState);

    const status = runtime.status();
    expect(status.state).toBe('failed');
    expect(status.lastResult).toMatchObject({ ok: false, status: 'failed' });
    expect(status.lastResult?.error).toMatch(/subscribe refused/);
    expect(bus.envelopes(INTROSPECTION_TOPIC)).toHaveLength(3);
    expect(bus.envelopes(HEARTBEAT_TOPIC).length).toBeGreaterThanOrEqual(2);

    expect(order.filter((entry) => entry.startsWith('stop-resolved'))).toEqual([
      'stop-resolved:alpha-effect',
      'stop-resolved:beta-effect',
    ]);
    expect(order.indexOf('guard-reset')).toBeGreaterThan(
      order.indexOf('stop-resolved:beta-effect'),
    );

    expect(state.eventBus).toBeUndefined();
    expect(state.busConnected).toBe(false);
    expect(state.introspectionNodes).toBeUndefined();
    expect(state.introspectionProxies).toEqual([]);
    expect(state.dispatchEngine).toBeUndefined();
    expect(state.subscriptions).toEqual([]);
    expect(app.get(DispatchEngine).loaded).toBe(false);
    expect(bus.health().connected).toBe(false);

    const beats = bus.envelopes(HEARTBEAT_TOPIC).length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bus.envelopes(HEARTBEAT_TOPIC)).toHaveLength(beats);
    const after = handles();
    for (const [kind, count] of Object.entries(after)) {
      expect({ kind, count }).toEqual({ kind, count: Math.min(count, before[kind] ?? 0) });
    }
  });

  it('resets the guard so that a second startup publish is accepted', async () => {
    await app.init();
    const guard = app.get(IntrospectionGuard);
    expect(guard.acquired).toBe(false);
    await bus.connect();
    const proxies = await app
      .get(IntrospectionPublisher)
      .publishStartup(
        bus,
        [{ name: 'solo', kind: 'effect', version: '1', nodeId: 'n-1', endpoints: [] }],
        { correlationId: 'c-1', register: () => undefined, activeOperations: () => 0 },
      );
    expect(guard.acquired).toBe(true);
    expect(proxies).toHaveLength(1);
    await Promise.all(proxies.map((proxy) => proxy.stopIntrospectionTasks()));
  });

  it('does not block a retry: wire() afterwards succeeds and heartbeats run again', async () => {
    await app.init();
    const runtime = app.get(IntelligenceRuntime);
    bus.subscribeError = undefined;
    const result = await runtime.wire();
    expect(result).toMatchObject({ ok: true, status: 'wired', handlers: 3 });
    expect(runtime.status().state).toBe('wired');
    const state = app.get(WiringState);
    expect(state.introspectionProxies.map((proxy) => proxy.node.name)).toEqual([
      'alpha-effect',
      'beta-effect',
    ]);
    const beats = bus.envelopes(HEARTBEAT_TOPIC).length;
    await waitFor(() => bus.envelopes(HEARTBEAT_TOPIC).length >= beats + 2, 'heartbeats again');
  });

  it('keeps stopping the other proxies when one proxy fails to stop, and logs it sanitized', async () => {
    jest.spyOn(HeartbeatProxy.prototype, 'stopIntrospectionTasks').mockImplementation(function (
      this: HeartbeatProxy,
    ) {
      const stopped = realStop.call(this);
      if (this.node.name !== 'alpha-effect') return stopped;
      return stopped.then(() => {
        throw new Error(`cannot stop: token=${CANARIES.stop}`);
      });
    });
    const runs: Awaited<ReturnType<IntelligenceCleanupService['run']>>[] = [];
    const cleanup = app.get(IntelligenceCleanupService);
    const originalRun = cleanup.run.bind(cleanup);
    jest.spyOn(cleanup, 'run').mockImplementation(async (reason) => {
      const report = await originalRun(reason);
      runs.push(report);
      return report;
    });
    await app.init();
    expect(runs[0]?.errors).toEqual([
      expect.stringMatching(
        /stopping the heartbeat of alpha-effect failed: Error: cannot stop: token=\[REDACTED\]/,
      ),
    ]);
    const state = app.get(WiringState);
    expect(state.introspectionProxies).toEqual([]);
    const beats = bus.envelopes(HEARTBEAT_TOPIC).length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bus.envelopes(HEARTBEAT_TOPIC)).toHaveLength(beats);
    expect(
      logs.lines.some((line) => line.startsWith('debug') && line.includes('Cleanup step failed')),
    ).toBe(true);
  });

  it('writes none of the planted secrets to any log, status or result', async () => {
    jest
      .spyOn(HeartbeatProxy.prototype, 'stopIntrospectionTasks')
      .mockRejectedValue(new Error(`stop failed with api_key=${CANARIES.stop}`));
    await app.init();
    await app.get(IntelligenceRuntime).wire();
    const everything = [logs.text(), JSON.stringify(app.get(IntelligenceRuntime).status())].join(
      '\n',
    );
    expect(logs.lines.length).toBeGreaterThan(3);
    for (const canary of Object.values(CANARIES)) expect(everything).not.toContain(canary);
  });
});
