import { expect, it } from '@jest/globals';
import type {
  BusMessage,
  Subscription,
} from '../../../src/intelligence/bus/bus-message.interface.js';
import { committedOffsets, createTopics } from '../../support/dispatch-kafka.js';
import { testPlatformaticBus } from '../../support/kafka-env.js';
import {
  describePartitionWork,
  member,
  now,
  overlaps,
  sleep,
  type Handling,
  type PartitionWorkSuite,
} from '../../support/partition-work.js';
import { uniqueGroup, uniqueTopic } from '../../support/unique-names.js';
import { waitFor } from '../../support/wait-for.js';

/** Scenarios of the @platformatic/kafka adapter's own fetch loop and membership keeping. */
function platformaticScenarios({ connected, producer }: PartitionWorkSuite): void {
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
      await producer().send(
        topic,
        Array.from({ length: 300 }, (_, i) => ({ partition, value: String(i) })),
      );
    }
    await waitFor(() => handled.get(1) === 300, 'the other partition handled in full', 30_000);
    expect(handled.get(0) ?? 0).toBe(0);
    releaseSlow();
    await waitFor(() => handled.get(0) === 300, 'the full partition resumed and handled', 30_000);
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
    await producer().send(
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
}

describePartitionWork('PlatformaticKafkaEventBus', {
  createBus: (options) => testPlatformaticBus(options),
  more: platformaticScenarios,
});
