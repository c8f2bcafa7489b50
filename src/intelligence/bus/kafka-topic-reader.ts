import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { LogSanitizer } from '../logging/log-sanitizer.js';
import { BoundedChannel } from './bounded-channel.js';
import type { BusMessage } from './bus-message.interface.js';
import { BusError } from './bus.errors.js';
import { toBusMessage } from './kafka-records.js';
import {
  DEFAULT_READ_IDLE_TIMEOUT_MS,
  type TopicReader,
  type TopicReadOptions,
} from './topic-reader.js';

/** Messages fetched and not yet taken by the read's caller before fetching waits. */
const CAPACITY = 500;
/** Heartbeats while `eachBatch` waits on a slow caller. */
const HEARTBEAT_MS = 3_000;

/** One read: each unfinished partition's end, and the next offset to hand over of each. */
interface ReadState {
  ends: Map<number, bigint>;
  next: Map<number, bigint>;
}

/**
 * The kafkajs `TopicReader` (kafkajs fetches only as a group member). A read lists the end
 * offset of each partition (`fetchTopicOffsets`), then consumes the topic from the beginning
 * as the only member of a throwaway group, `<clientId>-reader-<uuid>`, that never commits
 * (autoCommit off); each partition is paused once it reached its end, and the read ends when
 * all did. The group is deleted afterwards, best effort (an empty group with no offsets
 * expires anyway). A consumer kafkajs restarts after a retriable crash (a coordinator still
 * loading) starts from the beginning again: what was handed over already is skipped. A crash
 * it does not restart from fails the read.
 */
export class KafkaTopicReader implements TopicReader {
  private admin: Promise<Admin> | undefined;
  /** The reads in progress, ended by `close()`. */
  private readonly reads = new Map<Consumer, BoundedChannel<BusMessage>>();
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly clientId: string,
    private readonly sanitizer: LogSanitizer,
  ) {}

  async *read(topic: string, options: TopicReadOptions = {}): AsyncIterable<BusMessage> {
    if (this.closed) throw new BusError(`Cannot read ${topic}: the topic reader is closed`);
    const admin = await this.failing(topic, this.connectedAdmin());
    const ends = await this.failing(topic, endOffsets(admin, topic));
    if (ends.size === 0) return;
    const state: ReadState = { ends, next: new Map() };
    const idleMs = options.idleTimeoutMs ?? DEFAULT_READ_IDLE_TIMEOUT_MS;
    const channel = new BoundedChannel<BusMessage>({
      capacity: CAPACITY,
      idleMs,
      idleError: () => new BusError(`Reading ${topic} received nothing for ${idleMs} ms`),
    });
    const groupId = `${this.clientId}-reader-${randomUUID()}`;
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
    });
    this.reads.set(consumer, channel);
    this.watch(consumer, topic, ends, channel);
    try {
      await this.failing(topic, this.start(consumer, topic, state, channel));
      yield* channel;
    } finally {
      channel.close();
      this.reads.delete(consumer);
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const reads = [...this.reads];
    for (const [, channel] of reads) channel.fail(new BusError('The topic reader was closed'));
    await Promise.allSettled(reads.map(([consumer]) => consumer.disconnect()));
    const admin = await this.admin?.catch(() => undefined);
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }

  private async start(
    consumer: Consumer,
    topic: string,
    state: ReadState,
    channel: BoundedChannel<BusMessage>,
  ): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: (payload) => handOver(payload, state, channel),
    });
  }

  /**
   * Marks a partition done once a batch reached its end (a batch of control records only is
   * reported here too, without `eachBatch`), and fails the read on a crash kafkajs does not
   * restart from.
   */
  private watch(
    consumer: Consumer,
    topic: string,
    ends: Map<number, bigint>,
    channel: BoundedChannel<BusMessage>,
  ): void {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const end = ends.get(payload.partition);
      if (end === undefined || BigInt(payload.lastOffset) + 1n < end) return;
      ends.delete(payload.partition);
      consumer.pause([{ topic, partitions: [payload.partition] }]);
      if (ends.size === 0) channel.end();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      channel.fail(
        new BusError(`Reading ${topic} failed: ${this.sanitizer.describeError(payload.error)}`),
      );
    });
  }

  private connectedAdmin(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((error: unknown) => {
      this.admin = undefined;
      throw error;
    });
    return this.admin;
  }

  /** `work`, its failure as a `BusError` with a sanitized message. */
  private async failing<T>(topic: string, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      throw new BusError(`Reading ${topic} failed: ${this.sanitizer.describeError(error)}`);
    }
  }
}

/** The end offset of each partition holding messages; none when the topic does not exist. */
async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  if (!(await admin.listTopics()).includes(topic)) return new Map();
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(
    offsets
      .filter(({ low, high }) => BigInt(high) > BigInt(low))
      .map(({ partition, high }) => [partition, BigInt(high)]),
  );
}

/**
 * Hands over a batch's messages below their partition's end that were not handed over yet,
 * heartbeating while it waits.
 */
async function handOver(
  payload: EachBatchPayload,
  { ends, next }: ReadState,
  channel: BoundedChannel<BusMessage>,
): Promise<void> {
  const { batch } = payload;
  const end = ends.get(batch.partition);
  if (end === undefined) return;
  const beat = setInterval(() => {
    payload.heartbeat().catch(() => undefined);
  }, HEARTBEAT_MS);
  try {
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      if (offset >= end) break;
      if (offset < (next.get(batch.partition) ?? 0n)) continue;
      next.set(batch.partition, offset + 1n);
      await channel.push(toBusMessage(batch.topic, batch.partition, message));
    }
  } finally {
    clearInterval(beat);
  }
}
