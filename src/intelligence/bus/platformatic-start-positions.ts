import type { Consumer } from '@platformatic/kafka';
import { backoffDelay, type BackoffRange } from './redelivery-backoff.js';

export interface StartPosition {
  topic: string;
  partition: number;
  offset: bigint;
}

const EARLIEST = -2n;
const LATEST = -1n;
const RETRY: BackoffRange = { initialMs: 250, maxMs: 5_000 };

/**
 * Where each assigned partition is fetched from: the group's committed offset, or, where it
 * has none (or `ignoreCommitted`), the beginning (`fromBeginning`) or the end of the partition.
 */
export async function startPositions(
  consumer: Consumer,
  assignment: readonly { topic: string; partitions: readonly number[] }[],
  fromBeginning: boolean,
  { ignoreCommitted = false } = {},
): Promise<StartPosition[]> {
  const wanted = assignment.filter(({ partitions }) => partitions.length > 0);
  if (wanted.length === 0) return [];
  const committed = ignoreCommitted
    ? new Map<string, bigint[]>()
    : await consumer.listCommittedOffsets({
        topics: wanted.map(({ topic, partitions }) => ({ topic, partitions: [...partitions] })),
      });
  const positions: StartPosition[] = [];
  const missing: Record<string, number[]> = {};
  for (const { topic, partitions } of wanted) {
    for (const partition of partitions) {
      const offset = committed.get(topic)?.[partition];
      if (offset !== undefined && offset >= 0n) positions.push({ topic, partition, offset });
      else (missing[topic] ??= []).push(partition);
    }
  }
  const topics = Object.keys(missing);
  if (topics.length === 0) return positions;
  const ends = await consumer.listOffsets({
    topics,
    partitions: missing,
    timestamp: fromBeginning ? EARLIEST : LATEST,
  });
  for (const topic of topics) {
    for (const partition of missing[topic] ?? []) {
      const offset = ends.get(topic)?.[partition];
      if (offset === undefined)
        throw new Error(`No offset listed for ${topic} ${String(partition)}`);
      positions.push({ topic, partition, offset });
    }
  }
  return positions;
}

/**
 * `startPositions`, tried again with backoff after each failure (told to `failed`) as long as
 * `current()` holds; `undefined` once it no longer does.
 */
export async function retriedStartPositions(
  consumer: Consumer,
  assignment: readonly { topic: string; partitions: readonly number[] }[],
  fromBeginning: boolean,
  current: () => boolean,
  failed: (error: unknown) => void,
): Promise<StartPosition[] | undefined> {
  for (let attempt = 1; current(); attempt++) {
    try {
      return await startPositions(consumer, assignment, fromBeginning);
    } catch (error) {
      failed(error);
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, RETRY)));
    }
  }
  return undefined;
}

/**
 * Where a partition goes on from after OFFSET_OUT_OF_RANGE: the start policy's end, whatever
 * was committed; `undefined` if it cannot be listed now.
 */
export async function endPosition(
  consumer: Consumer,
  topic: string,
  partition: number,
  fromBeginning: boolean,
): Promise<StartPosition | undefined> {
  const [position] = await startPositions(
    consumer,
    [{ topic, partitions: [partition] }],
    fromBeginning,
    { ignoreCommitted: true },
  ).catch(() => [undefined]);
  return position;
}
