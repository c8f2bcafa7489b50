import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import type {
  BusMessage,
  Subscription,
} from '../../../src/intelligence/bus/bus-message.interface.js';
import type { KafkaBusOptions } from '../../../src/intelligence/bus/kafka-bus.options.js';
import { PlatformaticKafkaEventBus } from '../../../src/intelligence/bus/platformatic-event-bus.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';
import { captureLogs } from '../../support/capture-logs.js';
import { committedOffsets, createTopics, TestProducer } from '../../support/dispatch-kafka.js';
import { kafkaBrokers } from '../../support/kafka-env.js';
import { uniqueGroup, uniqueTopic } from '../../support/unique-names.js';
import { waitFor } from '../../support/wait-for.js';

interface Handling {
  member: string;
  partition: number;
  offset: string;
  start: number;
  end: number;
}

async function partitionCount(topic: string): Promise<number> {
  const admin = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).length;
  } finally {
    await admin.disconnect();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();

/** Handlings of one partition by different members whose times overlap. */
function overlaps(handlings: Handling[]): [Handling, Handling][] {
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
function member(name: string, handlings: Handling[], ms: number) {
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

describe('PlatformaticKafkaEventBus partition work on the real broker', () => {
  const buses: PlatformaticKafkaEventBus[] = [];
  let producer: TestProducer;

  beforeAll(async () => {
    producer = await new TestProducer().start();
  });

  afterAll(async () => {
    await producer.stop();
  });

  const connected = async (options: Partial<Omit<KafkaBusOptions, 'kind'>> = {}) => {
    const bus = new PlatformaticKafkaEventBus(
      {
        clientId: 'intelligence-test',
        brokers: kafkaBrokers(),
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 500,
        commitIntervalMs: 200,
        fetchMaxWaitMs: 200,
        ...options,
      },
      new LogSanitizer(),
    );
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
    await bus.subscribe([topic], uniqueGroup('slow-partition'), handler, { fromBeginning: true });
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

  it('pauses only a partition whose buffer is full, and resumes it', async () => {
    const topic = uniqueTopic('full-partition');
    await createTopics([topic], 2);
    const bus = await connected({ maxBufferedPerPartition: 20 });
    const handled = new Map<number, number>();
    let releaseSlow: () => void = () => undefined;
    const slowGate = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const handler = async (message: BusMessage) => {
      if (message.partition === 0) await slowGate;
      handled.set(message.partition, (handled.get(message.partition) ?? 0) + 1);
    };
    await bus.subscribe([topic], uniqueGroup('full-partition'), handler, { fromBeginning: true });
    for (const partition of [0, 1]) {
      await producer.send(
        topic,
        Array.from({ length: 300 }, (_, i) => ({ partition, value: String(i) })),
      );
    }
    await waitFor(() => handled.get(1) === 300, 'the other partition handled in full', 30_000);
    expect(handled.get(0) ?? 0).toBe(0);
    releaseSlow();
    await waitFor(() => handled.get(0) === 300, 'the full partition resumed and handled', 30_000);
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

  it('keeps its membership through a drain longer than the session timeout', async () => {
    const topic = uniqueTopic('long-drain');
    const groupId = uniqueGroup('long-drain');
    await createTopics([topic], 2);
    const handlings: Handling[] = [];
    // Session 6 s, handlers 8 s: only heartbeats sent during the drain keep the member in.
    const options = { sessionTimeoutMs: 6_000 };
    const first = await connected(options);
    const subscriptions: Subscription[] = [
      await first.subscribe([topic], groupId, member('a', handlings, 8_000), {
        fromBeginning: true,
        drainTimeoutMs: 20_000,
      }),
    ];
    await producer.send(
      topic,
      [0, 1].flatMap((partition) =>
        Array.from({ length: 2 }, (_, i) => ({
          partition,
          value: `${String(partition)}-${String(i)}`,
        })),
      ),
    );
    const started = now();
    await sleep(1_000);
    const second = await connected(options);
    subscriptions.push(
      await second.subscribe([topic], groupId, member('b', handlings, 100), {
        fromBeginning: true,
      }),
    );
    // The join of `b` waited for `a` to finish its first two messages and commit them.
    expect(now() - started).toBeGreaterThan(7_500);
    await waitFor(
      () => new Set(handlings.map((h) => `${h.partition}:${h.offset}`)).size === 4,
      'every message handled',
      60_000,
    );
    expect(overlaps(handlings)).toEqual([]);
    // Nothing `a` had finished was handled again: it stayed a member and committed.
    const handledByA = handlings
      .filter((h) => h.member === 'a')
      .map((h) => `${h.partition}:${h.offset}`);
    const handledByB = handlings
      .filter((h) => h.member === 'b')
      .map((h) => `${h.partition}:${h.offset}`);
    expect(handledByA.filter((id) => handledByB.includes(id))).toEqual([]);
    await Promise.all(subscriptions.map((subscription) => subscription.close()));
    expect(await committedOffsets(groupId, topic)).toEqual(['2', '2']);
  }, 120_000);

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

  it('keeps a tombstone null and the key bytes as they were sent', async () => {
    const bus = await connected();
    const topic = uniqueTopic('tombstone');
    await createTopics([topic], 1);
    const seen: BusMessage[] = [];
    await bus.subscribe(
      [topic],
      uniqueGroup('tombstone'),
      (message) => {
        seen.push(message);
        return Promise.resolve();
      },
      { fromBeginning: true },
    );
    const key = Buffer.from([0x00, 0xff, 0x10]);
    await bus.publish(topic, { key, value: null, headers: { reason: 'deleted' } });
    await waitFor(() => seen.length === 1, 'the tombstone delivered');
    expect(seen[0]?.value).toBeNull();
    expect(seen[0]?.key?.equals(key)).toBe(true);
    expect(seen[0]?.headers).toEqual({ reason: 'deleted' });
  });
});
