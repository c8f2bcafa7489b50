import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { BusMessage } from '../../src/intelligence/bus/bus-message.interface.js';
import { BusError, BusNotConnectedError } from '../../src/intelligence/bus/bus.errors.js';
import type { EventBus } from '../../src/intelligence/bus/event-bus.js';
import type { TopicReader } from '../../src/intelligence/bus/topic-reader.js';
import { uniqueGroup, uniqueTopic } from './unique-names.js';
import { waitFor } from './wait-for.js';

export interface TopicReaderHarness {
  /** A new, unconnected bus. */
  createBus: () => EventBus;
  /** A fresh topic with `partitions` partitions, ready to use on a connected `bus`. */
  createTopic: (bus: EventBus) => Promise<string>;
  partitions: number;
}

/** Every message `reader` reads of `topic`. */
export async function readAll(reader: TopicReader, topic: string): Promise<BusMessage[]> {
  const messages: BusMessage[] = [];
  for await (const message of reader.read(topic)) messages.push(message);
  return messages;
}

const byPosition = (a: BusMessage, b: BusMessage) =>
  a.partition - b.partition || Number(a.offset) - Number(b.offset);

/** What every `TopicReader` does (`EventBus.openReader()`); run against each adapter. */
export function describeTopicReaderContract(name: string, harness: TopicReaderHarness): void {
  describe(`TopicReader contract: ${name}`, () => {
    let bus: EventBus;
    let topic: string;
    let reader: TopicReader;

    beforeEach(async () => {
      bus = harness.createBus();
      await bus.connect();
      topic = await harness.createTopic(bus);
      reader = await bus.openReader();
    });

    afterEach(async () => {
      await reader.close();
      await bus.disconnect();
    });

    it('reads every partition from the beginning: keys, value bytes, headers and positions, in offset order', async () => {
      const binary = Buffer.from([0xc3, 0x28, 0xff, 0x00]);
      await bus.publishBatch(topic, [
        { key: 'k1', value: 'one', headers: { correlation_id: 'c-1' } },
        { key: 'k1', value: binary },
        { key: 'k1', value: null },
      ]);
      await bus.publishBatch(
        topic,
        Array.from({ length: 12 }, (_, i) => ({
          key: `spread-${String(i)}`,
          value: `v${String(i)}`,
        })),
      );

      const read = await readAll(reader, topic);

      expect(read).toHaveLength(15);
      for (const partition of new Set(read.map((m) => m.partition))) {
        const offsets = read.filter((m) => m.partition === partition).map((m) => Number(m.offset));
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      }
      const k1 = read.filter((m) => m.key?.toString() === 'k1').sort(byPosition);
      expect(k1.map((m) => m.value)).toEqual([Buffer.from('one'), binary, null]);
      expect(k1[0]?.headers).toMatchObject({ correlation_id: 'c-1' });
      expect(k1[0]?.topic).toBe(topic);
      expect(Number(k1[0]?.timestamp)).toBeGreaterThan(Date.now() - 60_000);
      expect(new Set(read.map((m) => m.partition)).size).toBeGreaterThan(1);
    });

    it('stops at the end each partition had when the read started', async () => {
      await bus.publishBatch(
        topic,
        Array.from({ length: 6 }, (_, i) => ({
          key: `k${String(i)}`,
          value: `before-${String(i)}`,
        })),
      );
      const read: string[] = [];
      for await (const message of reader.read(topic)) {
        if (read.length === 0) {
          await bus.publishBatch(topic, [
            { key: 'k0', value: 'after-1' },
            { key: 'k3', value: 'after-2' },
          ]);
        }
        read.push(message.value?.toString() ?? '');
      }
      expect(read.sort()).toEqual(Array.from({ length: 6 }, (_, i) => `before-${String(i)}`));
      const again = await readAll(reader, topic);
      expect(again).toHaveLength(8);
    });

    it('reads an empty topic, empty partitions and a topic that does not exist as nothing', async () => {
      await expect(readAll(reader, topic)).resolves.toEqual([]);
      await expect(readAll(reader, uniqueTopic('never-created'))).resolves.toEqual([]);
      await bus.publish(topic, { key: 'only-key', value: 'one' });
      const read = await readAll(reader, topic);
      expect(read.map((m) => m.value?.toString())).toEqual(['one']);
    });

    it('moves no consumer group: a group that consumed from the beginning still gets everything', async () => {
      await bus.publishBatch(topic, [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ]);
      await readAll(reader, topic);
      const received: string[] = [];
      const subscription = await bus.subscribe(
        [topic],
        uniqueGroup('after-read'),
        (message) => {
          received.push(message.value?.toString() ?? '');
          return Promise.resolve();
        },
        { fromBeginning: true },
      );
      try {
        await waitFor(
          () => received.length === 2,
          'both messages delivered to a new group',
          30_000,
        );
      } finally {
        await subscription.close();
      }
      await expect(readAll(reader, topic)).resolves.toHaveLength(2);
    });

    it('can be left early, and then reads again', async () => {
      await bus.publishBatch(
        topic,
        Array.from({ length: 20 }, (_, i) => ({ key: `k${String(i)}`, value: `m${String(i)}` })),
      );
      let taken = 0;
      for await (const _message of reader.read(topic)) {
        if (++taken === 3) break;
      }
      expect(taken).toBe(3);
      await expect(readAll(reader, topic)).resolves.toHaveLength(20);
    });

    it('refuses to read once closed, and to open on a disconnected bus', async () => {
      await reader.close();
      await expect(readAll(reader, topic)).rejects.toBeInstanceOf(BusError);
      await bus.disconnect();
      await expect(bus.openReader()).rejects.toBeInstanceOf(BusNotConnectedError);
    });
  });
}
