import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { BusMessage, Subscription } from '../../src/intelligence/bus/bus-message.interface.js';
import {
  BusConnectionError,
  BusMessageTooLargeError,
  BusNotConnectedError,
} from '../../src/intelligence/bus/bus.errors.js';
import type { EventBus } from '../../src/intelligence/bus/event-bus.js';
import { uniqueGroup } from './unique-names.js';
import { pause, waitFor } from './wait-for.js';

export interface BusHarness {
  /** A new, unconnected bus. */
  createBus: () => EventBus;
  /** A fresh topic with `partitions` partitions, ready to use on a connected `bus`. */
  createTopic: (bus: EventBus) => Promise<string>;
  /** Partitions per topic made by `createTopic`. */
  partitions: number;
  /** Largest message value the bus accepts. */
  maxMessageBytes: number;
  /** A bus pointed at a broker that is not there (buses with a broker only). */
  unreachableBus?: () => EventBus;
  /** How long to watch for a delivery that must not happen. */
  quietMs: number;
}

type Received = BusMessage & { text: string };

/** Records deliveries of a subscription. */
function recorder(fail?: (message: BusMessage, attempt: number) => boolean) {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const handler = (message: BusMessage): Promise<void> => {
    const id = `${message.partition}:${message.offset}`;
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    if (fail?.(message, attempt)) return Promise.reject(new Error(`refused ${id}`));
    received.push({ ...message, text: message.value?.toString('utf8') ?? '' });
    return Promise.resolve();
  };
  return { received, attempts, handler };
}

function assignedCount(bus: EventBus, groupId: string): number {
  return bus
    .health()
    .subscriptions.filter((sub) => sub.groupId === groupId && sub.state === 'running')
    .reduce((sum, sub) => sum + Object.values(sub.assigned).flat().length, 0);
}

/** The behaviour every EventBus must have; run against each adapter. */
export function describeBusContract(name: string, harness: BusHarness): void {
  describe(`EventBus contract: ${name}`, () => {
    let bus: EventBus;
    let topic: string;
    const open: Subscription[] = [];

    const subscribe = async (
      handler: (message: BusMessage) => Promise<void>,
      groupId = uniqueGroup(),
      topics = [topic],
    ) => {
      const subscription = await bus.subscribe(topics, groupId, handler, {
        fromBeginning: true,
        redelivery: { initialMs: 20, maxMs: 200 },
      });
      open.push(subscription);
      return subscription;
    };

    beforeEach(async () => {
      bus = harness.createBus();
      await bus.connect();
      topic = await harness.createTopic(bus);
    });

    afterEach(async () => {
      await Promise.all(open.splice(0).map((subscription) => subscription.close()));
      await bus.disconnect();
    });

    it('delivers published messages with key, value, headers and position', async () => {
      const { received, handler } = recorder();
      await subscribe(handler);
      await bus.publish(topic, { key: 'k1', value: 'hello', headers: { correlation_id: 'c-1' } });
      await bus.publishBatch(topic, [
        { key: 'k1', value: 'two' },
        { key: 'k1', value: 'three' },
      ]);
      await waitFor(() => received.length === 3, 'three deliveries');
      expect(received.map((m) => m.text)).toEqual(['hello', 'two', 'three']);
      const [first] = received;
      expect(first?.key?.toString()).toBe('k1');
      expect(first?.headers).toMatchObject({ correlation_id: 'c-1' });
      expect(first?.topic).toBe(topic);
      expect(Number(first?.offset)).toBeGreaterThanOrEqual(0);
      expect(Number(first?.timestamp)).toBeGreaterThan(Date.now() - 60_000);
      expect(new Set(received.map((m) => m.partition)).size).toBe(1);
      const partition = first?.partition ?? -1;
      await waitFor(
        () => bus.health().subscriptions[0]?.lag[topic]?.[partition] === 0,
        'lag of the partition reported as 0 once consumed',
      );
    });

    it('gives every group every message, and each message to one member of a group', async () => {
      const otherGroup = recorder();
      const memberA = recorder();
      const memberB = recorder();
      const groupId = uniqueGroup('shared');
      await subscribe(otherGroup.handler);
      await subscribe(memberA.handler, groupId);
      await subscribe(memberB.handler, groupId);
      await waitFor(
        () => assignedCount(bus, groupId) === harness.partitions,
        'partitions assigned across both members',
        45_000,
      );
      const values = Array.from({ length: 30 }, (_, i) => `m${String(i)}`);
      await bus.publishBatch(
        topic,
        values.map((value) => ({ key: value, value })),
      );
      await waitFor(() => otherGroup.received.length === 30, 'other group got all');
      await waitFor(
        () => memberA.received.length + memberB.received.length >= 30,
        'shared group got all',
      );
      await pause(harness.quietMs);
      const shared = [...memberA.received, ...memberB.received].map((m) => m.text).sort();
      expect(shared).toEqual([...values].sort());
      expect(otherGroup.received.map((m) => m.text).sort()).toEqual([...values].sort());
      expect(memberA.received.length).toBeGreaterThan(0);
      expect(memberB.received.length).toBeGreaterThan(0);
    });

    it('keeps the order of messages with the same key', async () => {
      const { received, handler } = recorder();
      await subscribe(handler);
      const keys = ['a', 'b', 'c', 'd', 'e'];
      const sent = Array.from({ length: 100 }, (_, i) => ({
        key: keys[i % keys.length] ?? 'a',
        value: String(i),
      }));
      for (let i = 0; i < sent.length; i += 10)
        await bus.publishBatch(topic, sent.slice(i, i + 10));
      await waitFor(() => received.length === sent.length, 'all delivered');
      for (const key of keys) {
        const order = received.filter((m) => m.key?.toString() === key).map((m) => Number(m.text));
        expect(order).toEqual([...order].sort((x, y) => x - y));
        expect(order).toHaveLength(20);
      }
    });

    it('delivers an unacknowledged message again, without losing the ones after it', async () => {
      const { received, attempts, handler } = recorder(
        (message, attempt) => message.value?.toString() === 'second' && attempt <= 2,
      );
      await subscribe(handler);
      await bus.publishBatch(
        topic,
        ['first', 'second', 'third'].map((value) => ({ key: 'same', value })),
      );
      await waitFor(() => received.length === 3, 'all three acknowledged');
      expect(received.map((m) => m.text)).toEqual(['first', 'second', 'third']);
      const second = received[1];
      expect(attempts.get(`${String(second?.partition)}:${String(second?.offset)}`)).toBe(3);
    });

    it('closes a subscription idempotently and stops delivering to it', async () => {
      const { received, handler } = recorder();
      const subscription = await subscribe(handler);
      await bus.publish(topic, { key: 'k', value: 'before' });
      await waitFor(() => received.length === 1, 'first delivery');
      await subscription.close();
      await subscription.close();
      await bus.publish(topic, { key: 'k', value: 'after' });
      await pause(harness.quietMs);
      expect(received.map((m) => m.text)).toEqual(['before']);
      expect(bus.health().subscriptions.filter((s) => s.state === 'running')).toHaveLength(0);
    });

    it('disconnects with a subscription open, and refuses work afterwards', async () => {
      const subscription = await subscribe(recorder().handler);
      await waitFor(() => bus.health().subscriptions.some((s) => s.state === 'running'), 'running');
      await bus.disconnect();
      expect(bus.health().connected).toBe(false);
      await subscription.close();
      await expect(bus.publish(topic, { value: 'late' })).rejects.toBeInstanceOf(
        BusNotConnectedError,
      );
      await expect(
        bus.subscribe([topic], uniqueGroup(), recorder().handler),
      ).rejects.toBeInstanceOf(BusNotConnectedError);
      await bus.disconnect();
    });

    it('delivers large and non-UTF-8 values as the exact bytes, and rejects oversized ones', async () => {
      const { received, handler } = recorder();
      await subscribe(handler);
      const large = Buffer.alloc(Math.floor(harness.maxMessageBytes / 2), 0x61);
      const binary = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80]);
      await bus.publish(topic, { key: 'bytes', value: large });
      await bus.publish(topic, { key: 'bytes', value: binary });
      await waitFor(() => received.length === 2, 'both delivered');
      expect(received[0]?.value?.equals(large)).toBe(true);
      expect(received[1]?.value?.equals(binary)).toBe(true);
      const oversized = Buffer.alloc(harness.maxMessageBytes + 1024, 0x62);
      await expect(bus.publish(topic, { value: oversized })).rejects.toBeInstanceOf(
        BusMessageTooLargeError,
      );
    });

    it('reports its state in health()', async () => {
      expect(bus.health()).toMatchObject({ connected: true, subscriptions: [] });
      const groupId = uniqueGroup('health');
      await subscribe(recorder().handler, groupId);
      await waitFor(() => assignedCount(bus, groupId) === harness.partitions, 'assigned', 30_000);
      const [sub] = bus.health().subscriptions;
      expect(sub).toMatchObject({ groupId, topics: [topic], state: 'running' });
      expect(sub?.assigned[topic]?.sort()).toEqual(
        Array.from({ length: harness.partitions }, (_, i) => i),
      );
    });

    const unreachable = harness.unreachableBus;
    if (unreachable) {
      it('fails to connect to an absent broker with a typed error, after a bounded retry', async () => {
        const absent = unreachable();
        await expect(absent.connect()).rejects.toBeInstanceOf(BusConnectionError);
        expect(absent.health().connected).toBe(false);
        await expect(absent.publish(topic, { value: 'x' })).rejects.toBeInstanceOf(
          BusNotConnectedError,
        );
        await absent.disconnect();
      });
    }
  });
}
