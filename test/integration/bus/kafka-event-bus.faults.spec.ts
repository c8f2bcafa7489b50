import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type BrokerHandle } from '../../../scripts/kafka/broker.mjs';
import type { BusMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import { BusPublishError } from '../../../src/intelligence/bus/bus.errors.js';
import type { KafkaEventBus } from '../../../src/intelligence/bus/kafka-event-bus.js';
import { testKafkaBus } from '../../support/kafka-env.js';
import { captureLogs } from '../../support/capture-logs.js';
import { uniqueGroup, uniqueTopic } from '../../support/unique-names.js';
import { waitFor } from '../../support/wait-for.js';

/** Faults injected for real: a dedicated broker is killed with SIGKILL and restarted. */
describe('KafkaEventBus under faults (dedicated broker)', () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await startBroker();
  }, 120_000);

  afterAll(async () => {
    await broker.cleanup();
  });

  const busOn = (options = {}) => testKafkaBus({ brokers: broker.brokers, ...options });

  async function committed(groupId: string, topic: string): Promise<Map<number, string>> {
    const admin = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return new Map(offsets?.partitions.map(({ partition, offset }) => [partition, offset]));
    } finally {
      await admin.disconnect();
    }
  }

  it('loses nothing when the broker is killed with SIGKILL mid-stream and restarted', async () => {
    const bus = busOn({ publishRetries: 8 });
    await bus.connect();
    const topic = uniqueTopic('kill9');
    await bus.ensureTopics([{ topic, numPartitions: 3 }]);
    const received = new Set<string>();
    const states = new Set<string>();
    const slowHandler = async (message: BusMessage) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      received.add(message.value?.toString() ?? '');
    };
    await bus.subscribe([topic], uniqueGroup('kill9'), slowHandler, { fromBeginning: true });
    const before = Array.from({ length: 300 }, (_, i) => `before-${String(i)}`);
    const after = Array.from({ length: 300 }, (_, i) => `after-${String(i)}`);
    for (let i = 0; i < before.length; i += 50) {
      await bus.publishBatch(
        topic,
        before.slice(i, i + 50).map((value) => ({ key: value, value })),
      );
    }
    await waitFor(() => received.size > 0, 'consumption started');
    await broker.kill9();
    const watch = setInterval(() => {
      for (const sub of bus.health().subscriptions) states.add(sub.state);
    }, 20);
    try {
      await broker.restart();
      for (let i = 0; i < after.length; i += 50) {
        await bus.publishBatch(
          topic,
          after.slice(i, i + 50).map((value) => ({ key: value, value })),
        );
      }
      await waitFor(
        () => received.size === before.length + after.length,
        'every message delivered',
        60_000,
      );
      await waitFor(
        () => bus.health().subscriptions[0]?.state === 'running',
        'consumer running again',
      );
    } finally {
      clearInterval(watch);
      await bus.disconnect();
    }
    expect([...before, ...after].filter((value) => !received.has(value))).toEqual([]);
  });

  it('shows a crashed consumer in health() and restarts it when the broker is back', async () => {
    const bus = busOn({ consumerRetries: 1 });
    await bus.connect();
    const topic = uniqueTopic('crash');
    await bus.ensureTopics([{ topic, numPartitions: 1 }]);
    const received: string[] = [];
    await bus.subscribe(
      [topic],
      uniqueGroup('crash'),
      (message) => {
        received.push(message.value?.toString() ?? '');
        return Promise.resolve();
      },
      { fromBeginning: true },
    );
    await waitFor(() => bus.health().subscriptions[0]?.state === 'running', 'running');
    await broker.kill9();
    try {
      const crashed = await waitFor(
        () => bus.health().subscriptions.find((sub) => sub.state === 'crashed'),
        'consumer reported crashed',
        60_000,
      );
      expect(crashed.lastError).toMatch(/\w+/);
      expect(crashed.assigned).toEqual({});
    } finally {
      await broker.restart();
    }
    await waitFor(() => bus.health().subscriptions[0]?.state === 'running', 'restarted', 60_000);
    await bus.publish(topic, { value: 'after-restart' });
    await waitFor(() => received.includes('after-restart'), 'consuming again');
    await bus.disconnect();
  });

  it('fails a publish with a typed error while the broker is down, and recovers after', async () => {
    const bus = busOn({ publishRetries: 1 });
    await bus.connect();
    const topic = uniqueTopic('down');
    await bus.ensureTopics([{ topic, numPartitions: 1 }]);
    await bus.publish(topic, { value: 'up' });
    await broker.kill9();
    try {
      await expect(bus.publish(topic, { value: 'while-down' })).rejects.toBeInstanceOf(
        BusPublishError,
      );
      expect(bus.health().lastError).toBeDefined();
    } finally {
      await broker.restart();
    }
    await waitFor(
      () =>
        bus.publish(topic, { value: 'back' }).then(
          () => true,
          () => false,
        ),
      'publish works again',
      60_000,
      500,
    );
    await bus.disconnect();
  });

  it('does not commit a message whose handler throws, and commits it once handled', async () => {
    const bus = busOn();
    await bus.connect();
    const topic = uniqueTopic('uncommitted');
    const groupId = uniqueGroup('uncommitted');
    await bus.ensureTopics([{ topic, numPartitions: 1 }]);
    let healthy = false;
    const handled: string[] = [];
    await bus.subscribe(
      [topic],
      groupId,
      (message) => {
        const value = message.value?.toString() ?? '';
        if (value === 'poison' && !healthy) return Promise.reject(new Error('not yet'));
        handled.push(value);
        return Promise.resolve();
      },
      { fromBeginning: true, redelivery: { initialMs: 50, maxMs: 200 } },
    );
    await bus.publishBatch(
      topic,
      ['ok-0', 'ok-1', 'poison', 'ok-3'].map((value) => ({ value })),
    );
    await waitFor(
      async () => (await committed(groupId, topic)).get(0) === '2',
      'offsets up to the poison committed',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await committed(groupId, topic)).get(0)).toBe('2');
    expect(handled).toEqual(['ok-0', 'ok-1']);
    expect(bus.health().subscriptions[0]?.lastError).toBe('Error: not yet');
    healthy = true;
    await waitFor(async () => (await committed(groupId, topic)).get(0) === '4', 'all committed');
    expect(handled).toEqual(['ok-0', 'ok-1', 'poison', 'ok-3']);
    await bus.disconnect();
  });

  it('has committed every handled message once a subscription is closed', async () => {
    const bus = busOn({ commitIntervalMs: 60_000 });
    await bus.connect();
    const topic = uniqueTopic('close-commit');
    const groupId = uniqueGroup('close-commit');
    await bus.ensureTopics([{ topic, numPartitions: 1 }]);
    let handled = 0;
    const subscription = await bus.subscribe(
      [topic],
      groupId,
      () => {
        handled += 1;
        return Promise.resolve();
      },
      { fromBeginning: true },
    );
    await bus.publishBatch(
      topic,
      Array.from({ length: 25 }, (_, i) => ({ value: String(i) })),
    );
    await waitFor(() => handled === 25, 'all handled');
    await subscription.close();
    expect((await committed(groupId, topic)).get(0)).toBe('25');
    await bus.disconnect();
  });

  it('sends kafkajs logs through the sanitizer: SASL credentials never reach a log', async () => {
    const canary = 'canary-SASL-pa55word-7Qx';
    const logs = captureLogs();
    const bus: KafkaEventBus = busOn({
      // The broker has no SASL listener: authentication fails and kafkajs logs about it.
      sasl: { mechanism: 'plain', username: `user-${canary}`, password: canary },
      connectRetries: 0,
    });
    try {
      await expect(bus.connect()).rejects.toThrow();
      expect(logs.lines.length).toBeGreaterThan(0);
      expect(logs.text()).not.toContain(canary);
      expect(JSON.stringify(bus.health())).not.toContain(canary);
    } finally {
      logs.restore();
      await bus.disconnect();
    }
  });
});
