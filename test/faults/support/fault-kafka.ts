import {
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type Consumer,
  type PartitionMetadata,
} from 'kafkajs';
import { ensureTopics } from '../../../src/intelligence/bus/kafka-topic-admin.js';
import { uniqueGroup } from '../../support/unique-names.js';
import { waitFor } from '../../support/wait-for.js';

/** Dead-letter topic of `onex.evt.*` topics. */
export const EVENTS_DLQ = 'onex.dlq.events.v1';

/** A plain kafkajs client on the scenario's broker, independent of the library under test. */
export function plainKafka(brokers: string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 3, maxRetryTime: 2_000 },
  });
}

/**
 * Creates `topic` with `numPartitions` partitions and waits for their leaders, the way the
 * module's kafkajs bus does (safe on a cluster, unlike kafkajs's `waitForLeaders`).
 */
export async function createTopic(brokers: string[], topic: string, numPartitions = 6) {
  const admin = plainKafka(brokers, 'faults-admin').admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic, numPartitions }]);
  } finally {
    await admin.disconnect();
  }
}

/** The partition kafkajs's default partitioner (the one `FaultProducer` uses) picks for `key`. */
export function partitionOfKey(key: string, numPartitions = 6): number {
  const partitionMetadata: PartitionMetadata[] = Array.from(
    { length: numPartitions },
    (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 1,
      replicas: [1],
      isr: [1],
    }),
  );
  return Partitioners.DefaultPartitioner()({
    topic: 'any',
    partitionMetadata,
    message: { key, value: null },
  });
}

/** One dead letter of the scenario's topic as it sits on the dead-letter topic. */
export interface DeadLetter {
  /** The `n` of the original message, when its bytes carry one. */
  n: number | undefined;
  partition: number;
  offset: string;
  failureClass: string;
}

/** The `n` carried by a message value: the envelope's payload, or `n=<digits>` in raw text. */
export function numberIn(value: Buffer | null): number | undefined {
  if (!value) return undefined;
  const text = value.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { payload?: { n?: unknown } };
    if (typeof parsed.payload?.n === 'number') return parsed.payload.n;
  } catch {
    // not JSON: look for the marker below
  }
  const match = /n=(\d+)/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * Reads the dead-letter topic from the beginning with a plain kafkajs consumer, keeping the
 * dead letters whose `original_topic` is `topic`, until `expected` of them arrived (or
 * `timeoutMs`), then a short quiet period to catch extra ones.
 */
export async function readDeadLetters(
  brokers: string[],
  topic: string,
  expected: number,
  timeoutMs = 30_000,
): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  const consumer: Consumer = plainKafka(brokers, 'faults-dlq-reader').consumer({
    groupId: uniqueGroup('dlq-reader'),
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [EVENTS_DLQ], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const header = (name: string) => message.headers?.[name]?.toString();
        if (header('original_topic') === topic) {
          letters.push({
            n: numberIn(message.value),
            partition: Number(header('original_partition')),
            offset: header('original_offset') ?? '',
            failureClass: header('failure_class') ?? '',
          });
        }
        return Promise.resolve();
      },
    });
    await waitFor(
      () => letters.length >= expected,
      `${String(expected)} dead letters of ${topic} on ${EVENTS_DLQ}`,
      timeoutMs,
      100,
    ).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

/**
 * Each partition's end offset, asked again while a partition has no leader for a moment (the
 * cluster moves leaderships back to a restarted node by itself): at most 15 s.
 */
async function endOffsets(admin: Admin, topic: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      const retriable = (error as { retriable?: unknown } | null)?.retriable === true;
      if (!retriable || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * The numbers `topic` really holds: read from the beginning to each partition's end (as the
 * brokers report it now) with a plain kafkajs consumer. Tells messages the producer was told
 * were written but that are not in the log apart from messages a consumer lost.
 */
export async function numbersInTopic(
  brokers: string[],
  topic: string,
  timeoutMs = 60_000,
): Promise<Set<number>> {
  const kafka = plainKafka(brokers, 'faults-topic-audit');
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  try {
    for (const { partition, high } of await endOffsets(admin, topic)) {
      ends.set(partition, BigInt(high));
    }
  } finally {
    await admin.disconnect();
  }
  const numbers = new Set<number>();
  const pending = new Set([...ends].filter(([, end]) => end > 0n).map(([partition]) => partition));
  const consumer = kafka.consumer({ groupId: uniqueGroup('topic-audit'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        const n = numberIn(message.value);
        if (n !== undefined) numbers.add(n);
        if (BigInt(message.offset) + 1n >= (ends.get(partition) ?? 0n)) pending.delete(partition);
        return Promise.resolve();
      },
    });
    await waitFor(() => pending.size === 0, `${topic} read to its end`, timeoutMs, 100);
  } finally {
    await consumer.disconnect();
  }
  return numbers;
}
