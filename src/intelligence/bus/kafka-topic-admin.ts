import type { Admin } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
}

/** Creates the topics that do not exist yet; existing topics are left as they are. */
export async function ensureTopics(admin: Admin, topics: readonly TopicSpec[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter(({ topic }) => !existing.has(topic));
  if (missing.length === 0) return [];
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map(({ topic, numPartitions, replicationFactor }) => ({
      topic,
      numPartitions: numPartitions ?? -1,
      replicationFactor: replicationFactor ?? -1,
    })),
  });
  return missing.map(({ topic }) => topic);
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
