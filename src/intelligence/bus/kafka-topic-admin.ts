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
