import type { Admin } from 'kafkajs';
import { waitForLeaders } from './partition-leaders.js';
import type { PartitionState } from './partition-watch.js';

export interface TopicSpec {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
}

/**
 * Creates the topics that do not exist yet (existing topics are left as they are) and waits
 * until every partition of the new ones has a leader. kafkajs's `waitForLeaders` asks the
 * controller right after the create; on a cluster, a node that has not applied the new topic
 * yet answers UNKNOWN_TOPIC_OR_PARTITION, which it does not retry: then the leaders are
 * waited for here.
 */
export async function ensureTopics(admin: Admin, topics: readonly TopicSpec[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter(({ topic }) => !existing.has(topic));
  if (missing.length === 0) return [];
  const names = missing.map(({ topic }) => topic);
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map(({ topic, numPartitions, replicationFactor }) => ({
        topic,
        numPartitions: numPartitions ?? -1,
        replicationFactor: replicationFactor ?? -1,
      })),
    });
  } catch (error) {
    if ((error as { type?: unknown } | null)?.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
    await waitForLeaders(names, (given) => describePartitions(admin, given));
  }
  return names;
}

/** Leader, replicas and in-sync replicas of every partition of `topics`. */
export async function describePartitions(
  admin: Admin,
  topics: readonly string[],
): Promise<PartitionState[]> {
  const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
  return metadata.topics.flatMap(({ name, partitions }) =>
    partitions.map(({ partitionId, leader, replicas, isr }) => ({
      topic: name,
      partition: partitionId,
      leader,
      replicas,
      isr,
    })),
  );
}

/**
 * Pins where a new group starts "from the latest": for the partitions of `topics` on which
 * `groupId` has committed nothing yet, commits their current end offsets. kafkajs would
 * otherwise take the end offset at the member's first fetch, so messages published between
 * `subscribe()` and that fetch (or left uncommitted by the group's first member) were skipped.
 * A group that already has members is left as it is (the broker refuses; they decide).
 */
export async function pinLatestStart(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<void> {
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  for (const { topic, partitions } of committed) {
    const fresh = new Set(
      partitions.filter(({ offset }) => offset === '-1').map((p) => p.partition),
    );
    if (fresh.size === 0) continue;
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId,
      topic,
      partitions: ends
        .filter(({ partition }) => fresh.has(partition))
        .map(({ partition, high }) => ({ partition, offset: high })),
    });
  }
}
