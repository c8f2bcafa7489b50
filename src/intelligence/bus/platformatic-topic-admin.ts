import type { Admin } from '@platformatic/kafka';
import type { TopicSpec } from './kafka-topic-admin.js';
import { waitForLeaders } from './partition-leaders.js';
import type { PartitionState } from './partition-watch.js';
import { protocolErrorIds } from './platformatic-failure-classifier.js';

const LATEST = -1n;

/**
 * Creates the topics that do not exist yet (existing ones are left as they are) and waits until
 * every partition of the new ones has a leader, as kafkajs's `waitForLeaders` does. A topic
 * another client created meanwhile counts as existing.
 */
export async function ensurePlatformaticTopics(
  admin: Admin,
  topics: readonly TopicSpec[],
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter(({ topic }) => !existing.has(topic));
  if (missing.length === 0) return [];
  // One request per partitions/replicas pair: @platformatic/kafka gives them per call.
  const shapes = new Map<string, TopicSpec[]>();
  for (const spec of missing) {
    const shape = `${String(spec.numPartitions ?? -1)}/${String(spec.replicationFactor ?? -1)}`;
    shapes.set(shape, [...(shapes.get(shape) ?? []), spec]);
  }
  for (const specs of shapes.values()) {
    const [first] = specs;
    await admin
      .createTopics({
        topics: specs.map(({ topic }) => topic),
        partitions: first?.numPartitions ?? -1,
        replicas: first?.replicationFactor ?? -1,
      })
      .catch((error: unknown) => {
        const ids = protocolErrorIds(error);
        if (ids.size === 0 || [...ids].some((id) => id !== 'TOPIC_ALREADY_EXISTS')) throw error;
      });
  }
  const names = missing.map(({ topic }) => topic);
  await waitForLeaders(names, (given) => describePlatformaticPartitions(admin, given));
  return names;
}

/** Leader, replicas and in-sync replicas of every partition of `topics` (fresh metadata). */
export async function describePlatformaticPartitions(
  admin: Admin,
  topics: readonly string[],
): Promise<PartitionState[]> {
  const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
  return [...metadata.topics].flatMap(([topic, { partitions }]) =>
    partitions.map(({ leader, replicas, isr }, partition) => ({
      topic,
      partition,
      leader,
      replicas,
      isr,
    })),
  );
}

/**
 * Pins where a new group starts "from the latest", as `pinLatestStart` does on kafkajs: for
 * the partitions of `topics` on which `groupId` has committed nothing, commits their current
 * end offsets, so nothing published between `subscribe()` and the first fetch is skipped. A
 * group with members is left as it is (the broker refuses; they decide).
 */
export async function pinPlatformaticLatestStart(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<void> {
  const metadata = await admin.metadata({ topics: [...topics] });
  const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
  const committed = new Map<string, Set<number>>();
  for (const topic of group?.topics ?? []) {
    committed.set(
      topic.name,
      new Set(topic.partitions.filter((p) => p.committedOffset >= 0n).map((p) => p.partitionIndex)),
    );
  }
  const fresh = topics
    .map((name) => {
      const count = metadata.topics.get(name)?.partitionsCount ?? 0;
      const done = committed.get(name) ?? new Set<number>();
      const partitions = Array.from({ length: count }, (_, i) => i).filter((i) => !done.has(i));
      return { name, partitions };
    })
    .filter(({ partitions }) => partitions.length > 0);
  if (fresh.length === 0) return;
  const ends = await admin.listOffsets({
    topics: fresh.map(({ name, partitions }) => ({
      name,
      partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp: LATEST })),
    })),
  });
  await admin.alterConsumerGroupOffsets({
    groupId,
    topics: ends.map(({ name, partitions }) => ({
      name,
      partitionOffsets: partitions.map(({ partitionIndex, offset }) => ({
        partition: partitionIndex,
        offset,
      })),
    })),
  });
}
