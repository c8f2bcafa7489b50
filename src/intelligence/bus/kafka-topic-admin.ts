import type { Admin, Kafka, TopicPartitionOffset } from 'kafkajs';
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

/** How long pinning a new group's start may take before the group is left to kafkajs. */
const PIN_TIMEOUT_MS = 30_000;
/** Fetch wait of the pinning member, whose partitions are all paused: it leaves at once. */
const PIN_FETCH_WAIT_MS = 100;

/**
 * Pins where a new group starts "from the latest": for the partitions of `topics` on which
 * `groupId` has committed nothing yet, commits their current end offsets. kafkajs would
 * otherwise take the end offset at the member's first fetch, so messages published between
 * `subscribe()` and that fetch (or left uncommitted by the group's first member) were skipped.
 * A group that already has members is left as it is (they decide).
 */
export async function pinLatestStart(
  kafka: Kafka,
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<void> {
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  const offsets: TopicPartitionOffset[] = [];
  for (const { topic, partitions } of committed) {
    const fresh = new Set(
      partitions.filter(({ offset }) => offset === '-1').map((p) => p.partition),
    );
    if (fresh.size === 0) continue;
    for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
      if (fresh.has(partition)) offsets.push({ topic, partition, offset: high });
    }
  }
  if (offsets.length > 0) await commitAsOnlyMember(kafka, groupId, offsets);
}

/**
 * Commits `offsets` for an empty group, all topics in one join: kafkajs's `setOffsets` takes
 * one topic per join and waits a whole fetch (5 s) for each, so a service with four topics
 * spent 20 s pinning before it consumed anything. The member joins with every partition
 * paused and commits at its first fetch, once it runs: stopped before that, kafkajs would not
 * leave the group, and the next member would wait out this one's session.
 */
async function commitAsOnlyMember(
  kafka: Kafka,
  groupId: string,
  offsets: TopicPartitionOffset[],
): Promise<void> {
  const topics = [...new Set(offsets.map(({ topic }) => topic))];
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: PIN_FETCH_WAIT_MS,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    const { state } = await consumer.describeGroup();
    if (state !== 'Empty' && state !== 'Dead') return;
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`Pinning the start of ${groupId} took over ${String(PIN_TIMEOUT_MS)} ms`));
      }, PIN_TIMEOUT_MS);
      let committing = false;
      consumer.on(consumer.events.FETCH_START, () => {
        if (committing) return;
        committing = true;
        consumer.commitOffsets(offsets).then(resolve, reject);
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        reject(payload.error);
      });
      consumer.run({ autoCommit: false, eachBatch: () => Promise.resolve() }).catch(reject);
      consumer.pause(topics.map((topic) => ({ topic })));
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}
