import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import type { BusMessage, Subscription } from '../../src/intelligence/bus/bus-message.interface.js';
import type { EventBus } from '../../src/intelligence/bus/event-bus.js';
import type { KafkaBusOptions } from '../../src/intelligence/bus/kafka-bus.options.js';
import { captureLogs } from './capture-logs.js';
import { committedOffsets, createTopics, TestProducer } from './dispatch-kafka.js';
import { kafkaBrokers } from './kafka-env.js';
import { uniqueGroup, uniqueTopic } from './unique-names.js';
import { waitFor } from './wait-for.js';

type BusOptions = Partial<Omit<KafkaBusOptions, 'kind'>>;

/** One handling of a message: which member, which message, when it started and ended. */
export interface Handling {
  member: string;
  partition: number;
  offset: string;
  start: number;
  end: number;
}

/** What the scenarios of one client get from the suite. */
export interface PartitionWorkSuite {
  /** A connected bus, disconnected after the scenario. */
  connected: (options?: BusOptions) => Promise<EventBus>;
  /** A plain kafkajs producer that places messages on given partitions. */
  producer: () => TestProducer;
}

export interface PartitionWorkHarness {
  /** A new, unconnected Kafka bus on the test broker, tuned for fast joins. */
  createBus: (options?: BusOptions) => EventBus;
  /** Scenarios only this client runs, in the same suite. */
  more?: (suite: PartitionWorkSuite) => void;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const now = () => performance.timeOrigin + performance.now();

async function partitionCount(topic: string): Promise<number> {
  const admin = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).length;
  } finally {
    await admin.disconnect();
  }
}

/** Handlings of one partition by different members whose times overlap. */
export function overlaps(handlings: Handling[]): [Handling, Handling][] {
  const found: [Handling, Handling][] = [];
  for (const a of handlings) {
    for (const b of handlings) {
      if (a.member < b.member && a.partition === b.partition && a.start < b.end && b.start < a.end)
        found.push([a, b]);
    }
  }
  return found;
}

/** A handler of member `name` that takes `ms` and records when it ran. */
export function member(name: string, handlings: Handling[], ms: number) {
  return async (message: BusMessage) => {
    const start = now();
    await sleep(ms);
    handlings.push({
      member: name,
      partition: message.partition,
      offset: message.offset,
      start,
      end: now(),
    });
  };
}

/**
 * How a Kafka bus works partitions on the real broker (slow partitions, handover between
 * members, topic creation, where a new group starts); run against each Kafka client.
 */
export function describePartitionWork(name: string, harness: PartitionWorkHarness): void {
  describe(`${name} partition work on the real broker`, () => {
    const buses: EventBus[] = [];
    let producer: TestProducer;

    beforeAll(async () => {
      producer = await new TestProducer().start();
    });

    afterAll(async () => {
      await producer.stop();
    });

    const connected = async (options: BusOptions = {}) => {
      const bus = harness.createBus(options);
      buses.push(bus);
      await bus.connect();
      return bus;
    };

    afterEach(async () => {
      await Promise.all(buses.splice(0).map((bus) => bus.disconnect()));
    });

    it('keeps the fast partitions of a member flowing while one of its partitions is slow', async () => {
      const topic = uniqueTopic('slow-partition');
      await createTopics([topic], 3);
      const bus = await connected();
      const finished = new Map<number, number[]>();
      const handler = async (message: BusMessage) => {
        if (message.partition === 0) await sleep(1_500);
        const times = finished.get(message.partition) ?? [];
        times.push(Date.now());
        finished.set(message.partition, times);
      };
      await bus.subscribe([topic], uniqueGroup('slow-partition'), handler, {
        fromBeginning: true,
      });
      for (const partition of [0, 1, 2]) {
        await producer.send(
          topic,
          Array.from({ length: partition === 0 ? 3 : 400 }, (_, i) => ({
            partition,
            value: `p${String(partition)}-${String(i)}`,
          })),
        );
      }
      await waitFor(
        () => finished.get(1)?.length === 400 && finished.get(2)?.length === 400,
        'fast partitions handled',
        30_000,
      );
      // Every fast message was handled before the slow partition's second message finished.
      expect(finished.get(0)?.length ?? 0).toBeLessThan(2);
      await waitFor(() => finished.get(0)?.length === 3, 'slow partition handled', 30_000);
    });

    it('lets no other member start a partition while its old owner still handles it', async () => {
      const topic = uniqueTopic('handover');
      const groupId = uniqueGroup('handover');
      await createTopics([topic], 4);
      const handlings: Handling[] = [];
      const first = await connected();
      const subscriptions: Subscription[] = [
        await first.subscribe([topic], groupId, member('a', handlings, 400), {
          fromBeginning: true,
        }),
      ];
      await producer.send(
        topic,
        [0, 1, 2, 3].flatMap((partition) =>
          Array.from({ length: 8 }, (_, i) => ({
            partition,
            value: `${String(partition)}-${String(i)}`,
          })),
        ),
      );
      await waitFor(() => handlings.length >= 4, 'the first member is working every partition');
      const second = await connected();
      subscriptions.push(
        await second.subscribe([topic], groupId, member('b', handlings, 400), {
          fromBeginning: true,
        }),
      );
      await waitFor(
        () => new Set(handlings.map((h) => `${h.partition}:${h.offset}`)).size === 32,
        'every message handled',
        60_000,
      );
      expect(handlings.some((h) => h.member === 'b')).toBe(true);
      expect(overlaps(handlings)).toEqual([]);
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
      expect(await committedOffsets(groupId, topic)).toEqual(['8', '8', '8', '8']);
    });

    it('creates a topic it only publishes to with defaultPartitions, like the ones it subscribes to', async () => {
      const bus = await connected({ defaultPartitions: 5 });
      const topic = uniqueTopic('publish-only');
      const logs = captureLogs();
      try {
        await Promise.all(
          Array.from({ length: 3 }, (_, i) => bus.publish(topic, { value: String(i) })),
        );
      } finally {
        logs.restore();
      }
      expect(await partitionCount(topic)).toBe(5);
      // No retriable "does not host this topic-partition" ERROR on the first publish.
      expect(logs.lines.filter((line) => line.startsWith('error'))).toEqual([]);
    });

    it('starts a new group at the end as of subscribe: a later member skips nothing published after', async () => {
      const bus = await connected();
      const topic = uniqueTopic('latest-start');
      const groupId = uniqueGroup('latest-start');
      await createTopics([topic], 2);
      await bus.publishBatch(topic, [{ value: 'history-1' }, { value: 'history-2' }]);
      const seen: string[] = [];
      const handler = (message: BusMessage) => {
        seen.push(message.value?.toString() ?? '');
        return Promise.resolve();
      };
      // The group's first member leaves before any message came, so it committed nothing itself.
      const first = await bus.subscribe([topic], groupId, handler);
      await first.close();
      await bus.publishBatch(topic, [{ value: 'new-1' }, { value: 'new-2' }, { value: 'new-3' }]);
      await bus.subscribe([topic], groupId, handler);
      await waitFor(() => seen.length === 3, 'the messages published after the first subscribe');
      expect(seen.sort()).toEqual(['new-1', 'new-2', 'new-3']);
    });

    it('writes every message of batch publishes in flight together to one partition', async () => {
      const bus = await connected();
      const topic = uniqueTopic('concurrent-batches');
      await createTopics([topic], 1);
      // Same-sized batches at once: sequence numbers shared between requests in flight would
      // make the broker acknowledge all but one of them as duplicates, writing nothing.
      const batches = Array.from({ length: 24 }, (_, b) =>
        Array.from({ length: 1 + (b % 3) }, (_, m) => ({
          key: 'k',
          value: `b${String(b)}-m${String(m)}`,
        })),
      );
      await Promise.all(batches.map((batch) => bus.publishBatch(topic, batch)));
      const seen: string[] = [];
      await bus.subscribe(
        [topic],
        uniqueGroup('concurrent-batches'),
        (message) => {
          seen.push(message.value?.toString() ?? '');
          return Promise.resolve();
        },
        { fromBeginning: true },
      );
      const all = batches.flat().map(({ value }) => value);
      await waitFor(() => seen.length >= all.length, 'every published message consumed', 30_000);
      await sleep(500);
      expect([...seen].sort()).toEqual([...all].sort());
    });

    harness.more?.({ connected, producer: () => producer });
  });
}
