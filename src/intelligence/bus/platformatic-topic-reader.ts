import { randomUUID } from 'node:crypto';
import type { Admin, Consumer } from '@platformatic/kafka';
import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type { BusMessage } from './bus-message.interface.js';
import { BusError } from './bus.errors.js';
import type { PlatformaticConnection } from './platformatic-client-options.js';
import { summarizePlatformaticError } from './platformatic-failure-classifier.js';
import type { PlatformaticKafkaModule } from './platformatic-loader.js';
import { bridgePlatformaticLogs } from './platformatic-log-bridge.js';
import { fetchResponseOf, readFetchedPartition } from './platformatic-records.js';
import {
  DEFAULT_READ_IDLE_TIMEOUT_MS,
  type TopicReader,
  type TopicReadOptions,
} from './topic-reader.js';

/** Where a partition is read from next, and the end it is read up to. */
interface Range {
  offset: bigint;
  end: bigint;
}

const EARLIEST = -2n;
const LATEST = -1n;
const READ_COMMITTED = 1;
const OFFSET_OUT_OF_RANGE = 1;
/** UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_TOPIC_ID. */
const STALE_METADATA = new Set([3, 5, 6, 74, 100]);
const FETCH = { maxWaitTime: 250, maxBytes: 10_485_760, partitionMaxBytes: 2_097_152 };
/** Pause before fetching again after a round that moved no partition (a leader moving, say). */
const STALLED_MS = 250;

/**
 * The @platformatic/kafka `TopicReader`, without any group: a read lists each partition's
 * earliest and end offsets (`listOffsets`), then fetches the partitions from their leaders
 * (`Consumer.fetch` needs no membership), one response at a time, until each reached its
 * end. The consumer's group id, `<clientId>-reader-<uuid>`, is never joined, so nothing is
 * committed and no group is left on the broker. The reader's clients are its own.
 */
export class PlatformaticTopicReader implements TopicReader {
  private clients: { admin: Admin; consumer: Consumer; detach: (() => void)[] } | undefined;
  private closed = false;

  constructor(
    private readonly kafka: PlatformaticKafkaModule,
    private readonly connection: PlatformaticConnection,
    private readonly retries: number,
    private readonly sanitizer: LogSanitizer,
  ) {}

  async *read(topic: string, options: TopicReadOptions = {}): AsyncIterable<BusMessage> {
    if (this.closed) throw new BusError(`Cannot read ${topic}: the topic reader is closed`);
    const { admin, consumer } = this.open();
    const ranges = await this.failing(topic, readRanges(admin, consumer, topic));
    const idleMs = options.idleTimeoutMs ?? DEFAULT_READ_IDLE_TIMEOUT_MS;
    let progressAt = Date.now();
    while (ranges.size > 0) {
      const round = await this.failing(topic, fetchRound(consumer, topic, ranges));
      yield* round.messages;
      if (round.advanced) {
        progressAt = Date.now();
        continue;
      }
      if (Date.now() - progressAt > idleMs) {
        throw new BusError(`Reading ${topic} received nothing for ${idleMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, STALLED_MS));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const clients = this.clients;
    this.clients = undefined;
    if (!clients) return;
    await Promise.allSettled([clients.consumer.close(), clients.admin.close()]);
    for (const off of clients.detach) off();
  }

  private open(): { admin: Admin; consumer: Consumer } {
    if (this.clients) return this.clients;
    const admin = new this.kafka.Admin({ ...this.connection, retries: this.retries });
    const consumer = new this.kafka.Consumer({
      ...this.connection,
      groupId: `${this.connection.clientId}-reader-${randomUUID()}`,
      autocommit: false,
      isolationLevel: READ_COMMITTED,
      maxWaitTime: FETCH.maxWaitTime,
      retries: this.retries,
    });
    const detach = [
      bridgePlatformaticLogs(admin, this.sanitizer, 'PlatformaticReaderAdmin'),
      bridgePlatformaticLogs(consumer, this.sanitizer, 'PlatformaticReader'),
    ];
    this.clients = { admin, consumer, detach };
    return this.clients;
  }

  /** `work`, its failure as a `BusError` with a sanitized message. */
  private async failing<T>(topic: string, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      const summary = summarizePlatformaticError(error);
      throw new BusError(`Reading ${topic} failed: ${this.sanitizer.describeError(summary)}`);
    }
  }
}

/** The partitions of `topic` holding messages, from their earliest offset to their end. */
async function readRanges(
  admin: Admin,
  consumer: Consumer,
  topic: string,
): Promise<Map<number, Range>> {
  const ranges = new Map<number, Range>();
  if (!(await admin.listTopics()).includes(topic)) return ranges;
  const [starts, ends] = await Promise.all(
    [EARLIEST, LATEST].map((timestamp) =>
      consumer.listOffsets({ topics: [topic], timestamp, isolationLevel: READ_COMMITTED }),
    ),
  );
  (ends?.get(topic) ?? []).forEach((end, partition) => {
    const offset = starts?.get(topic)?.[partition] ?? end;
    if (end > offset) ranges.set(partition, { offset, end });
  });
  return ranges;
}

/**
 * One fetch from each leader of the partitions still in `ranges`: their messages below
 * their end, in offset order; each range moves on, and is removed once it reached its end.
 */
async function fetchRound(
  consumer: Consumer,
  topic: string,
  ranges: Map<number, Range>,
): Promise<{ messages: BusMessage[]; advanced: boolean }> {
  const info = (await consumer.metadata({ topics: [topic] })).topics.get(topic);
  if (!info) {
    consumer.clearMetadata();
    return { messages: [], advanced: false };
  }
  const byLeader = new Map<number, number[]>();
  for (const partition of ranges.keys()) {
    const leader = info.partitions[partition]?.leader ?? -1;
    if (leader < 0) {
      consumer.clearMetadata();
      continue;
    }
    byLeader.set(leader, [...(byLeader.get(leader) ?? []), partition]);
  }
  const messages: BusMessage[] = [];
  let advanced = false;
  const outOfRange: number[] = [];
  for (const [node, partitions] of byLeader) {
    const response = await consumer
      .fetch({
        node,
        topics: [
          {
            topicId: info.id,
            partitions: partitions.map((partition) => ({
              partition,
              fetchOffset: ranges.get(partition)?.offset ?? 0n,
              partitionMaxBytes: FETCH.partitionMaxBytes,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            })),
          },
        ],
        maxWaitTime: FETCH.maxWaitTime,
        minBytes: 1,
        maxBytes: FETCH.maxBytes,
        isolationLevel: READ_COMMITTED,
      })
      .catch((error: unknown) => {
        const response = fetchResponseOf(error);
        if (!response) throw error;
        return response;
      });
    for (const fetched of response.responses.flatMap((r) => r.partitions)) {
      const partition = fetched.partitionIndex;
      const range = ranges.get(partition);
      if (!range) continue;
      if (fetched.errorCode === OFFSET_OUT_OF_RANGE) {
        outOfRange.push(partition);
        continue;
      }
      if (fetched.errorCode !== 0) {
        if (!STALE_METADATA.has(fetched.errorCode)) {
          throw new Error(
            `fetching partition ${String(partition)} failed with error code ${String(fetched.errorCode)}`,
          );
        }
        consumer.clearMetadata();
        continue;
      }
      const read = readFetchedPartition(topic, partition, range.offset, fetched.records ?? []);
      if (read.next > range.offset) advanced = true;
      range.offset = read.next;
      messages.push(...read.messages.filter(({ offset }) => BigInt(offset) < range.end));
      if (range.offset >= range.end) ranges.delete(partition);
    }
  }
  if (outOfRange.length > 0)
    advanced = (await skipDeleted(consumer, topic, ranges, outOfRange)) || advanced;
  return { messages, advanced };
}

/** After OFFSET_OUT_OF_RANGE (records deleted meanwhile): on from each partition's new start. */
async function skipDeleted(
  consumer: Consumer,
  topic: string,
  ranges: Map<number, Range>,
  partitions: number[],
): Promise<boolean> {
  const starts = await consumer.listOffsets({
    topics: [topic],
    partitions: { [topic]: partitions },
    timestamp: EARLIEST,
    isolationLevel: READ_COMMITTED,
  });
  let moved = false;
  for (const partition of partitions) {
    const range = ranges.get(partition);
    const start = starts.get(topic)?.[partition];
    if (!range || start === undefined || start <= range.offset) continue;
    moved = true;
    range.offset = start;
    if (start >= range.end) ranges.delete(partition);
  }
  return moved;
}
