import { afterEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { HEARTBEAT_TOPIC } from '../../../src/intelligence/intelligence.constants.js';
import { HeartbeatProxy } from '../../../src/intelligence/introspection/heartbeat.proxy.js';
import { nodeIdFor } from '../../../src/intelligence/introspection/node-id.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';
import { captureLogs } from '../../support/capture-logs.js';
import { FaultyBus } from '../../support/faulty-bus.js';
import { pause, waitFor } from '../../support/wait-for.js';

const node = {
  name: 'storage-effect',
  kind: 'effect' as const,
  version: '1.2.3',
  nodeId: nodeIdFor('storage-effect'),
  endpoints: [],
};

class SlowBus extends FaultyBus {
  publishDelayMs = 0;
  failNext = 0;
  inFlight = 0;
  maxInFlight = 0;

  override async publishBatch(topic: string, messages: Parameters<FaultyBus['publishBatch']>[1]) {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await pause(this.publishDelayMs);
      if (this.failNext > 0) {
        this.failNext -= 1;
        throw new Error('publish failed: password=hunter2-canary');
      }
      await super.publishBatch(topic, messages);
    } finally {
      this.inFlight -= 1;
    }
  }
}

describe('HeartbeatProxy', () => {
  const proxies: HeartbeatProxy[] = [];
  const make = (bus: SlowBus, intervalMs: number) => {
    const proxy = new HeartbeatProxy(node, bus, {
      service: 'svc',
      instance: { instance_id: 'instance-7', host: 'host-a', pid: 4242 },
      intervalMs,
      activeOperations: () => 2,
      logger: new Logger('test'),
      sanitizer: new LogSanitizer(),
    });
    proxies.push(proxy);
    return proxy;
  };

  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.stopIntrospectionTasks()));
  });

  it('beats at once, then on the interval, with the heartbeat fields', async () => {
    const bus = new SlowBus();
    await bus.connect();
    make(bus, 30).start();
    await waitFor(() => bus.envelopes(HEARTBEAT_TOPIC).length === 1, 'first beat');
    const [first] = bus.envelopes(HEARTBEAT_TOPIC);
    expect(first?.payload).toMatchObject({
      node_id: node.nodeId,
      instance_id: 'instance-7',
      host: 'host-a',
      pid: 4242,
      node_type: 'effect',
      node_version: '1.2.3',
      active_operations: 2,
      uptime_seconds: 0,
    });
    expect(bus.published[0]?.message.key).toBe('instance-7');
    expect(first?.correlation_id).toBe(
      (first?.payload as { correlation_id: string }).correlation_id,
    );
    await waitFor(() => bus.envelopes(HEARTBEAT_TOPIC).length >= 3, 'more beats');
    const ids = bus.envelopes(HEARTBEAT_TOPIC).map((envelope) => envelope.correlation_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('never overlaps beats when a publish is slower than the interval', async () => {
    const bus = new SlowBus();
    await bus.connect();
    bus.publishDelayMs = 40;
    make(bus, 5).start();
    await waitFor(() => bus.envelopes(HEARTBEAT_TOPIC).length >= 3, 'three beats');
    expect(bus.maxInFlight).toBe(1);
  });

  it('logs a failed beat (sanitized) and keeps beating', async () => {
    const logs = captureLogs();
    try {
      const bus = new SlowBus();
      await bus.connect();
      bus.failNext = 2;
      const proxy = make(bus, 10);
      proxy.start();
      await waitFor(() => bus.envelopes(HEARTBEAT_TOPIC).length >= 1, 'a beat after failures');
      expect(proxy.beatsFailed).toBe(2);
      expect(logs.text()).toContain('Heartbeat failed');
      expect(logs.text()).not.toContain('hunter2-canary');
    } finally {
      logs.restore();
    }
  });

  it('stops idempotently, waiting for the beat in flight, leaving no timer', async () => {
    const bus = new SlowBus();
    await bus.connect();
    bus.publishDelayMs = 50;
    const proxy = make(bus, 10);
    proxy.start();
    await waitFor(() => bus.inFlight === 1, 'a beat in flight');
    const first = proxy.stopIntrospectionTasks();
    expect(proxy.stopIntrospectionTasks()).toBe(first);
    await first;
    expect(bus.inFlight).toBe(0);
    const beats = bus.envelopes(HEARTBEAT_TOPIC).length;
    await pause(60);
    expect(bus.envelopes(HEARTBEAT_TOPIC)).toHaveLength(beats);
    expect(proxy.running).toBe(false);
  });

  it('derives stable node ids (UUID v5 of the name)', () => {
    expect(nodeIdFor('storage-effect')).toBe(nodeIdFor('storage-effect'));
    expect(nodeIdFor('storage-effect')).not.toBe(nodeIdFor('storage-effects'));
    expect(nodeIdFor('storage-effect')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
