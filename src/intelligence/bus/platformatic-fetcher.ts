import type { ConnectionPool, Consumer, fetchV17 } from '@platformatic/kafka';
import type { BusMessage } from './bus-message.interface.js';
import { fetchResponseOf, readFetchedPartition } from './platformatic-records.js';
import { backoffDelay, type BackoffRange } from './redelivery-backoff.js';

export interface FetcherSettings {
  /** Longest a fetch waits on the broker for data. */
  maxWaitMs: number;
  partitionMaxBytes: number;
  maxBytes: number;
}

/** What the fetcher tells its subscription; called synchronously, in offset order per partition. */
export interface FetcherListener {
  fetched(topic: string, partition: number, messages: BusMessage[], lag: number): void;
  /** The partition's position is no longer in the log (retention): `seek` it somewhere. */
  outOfRange(topic: string, partition: number): void;
  /** A fetch failed after the client's own retries; the fetcher retries with backoff. */
  failed(error: unknown): void;
  succeeded(): void;
}

type FetchRequestTopic = fetchV17.FetchRequestTopic;
type FetchResponse = fetchV17.FetchResponse;

interface Position {
  topic: string;
  partition: number;
  offset: bigint;
}

const READ_COMMITTED = 1;
const OFFSET_OUT_OF_RANGE = 1;
/** UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_TOPIC_ID. */
const STALE_METADATA = new Set([3, 5, 6, 74, 100]);
const RETRY: BackoffRange = { initialMs: 250, maxMs: 2_000 };

const keyOf = (topic: string, partition: number) => `${topic}:${String(partition)}`;

/**
 * The fetch loop of one subscription on @platformatic/kafka's `Consumer.fetch` (its
 * `MessagesStream` pauses only as a whole). Each round fetches every assigned partition that is
 * not paused, one request per leader, on a connection pool of its own (so group requests on the
 * coordinator connection never queue behind a fetch), and hands each partition's messages over.
 * `assign` and `clear` start a new epoch: a fetch still in flight from the old one is dropped.
 */
export class PartitionFetcher {
  private positions = new Map<string, Position>();
  private readonly paused = new Set<string>();
  private epoch = 0;
  private stopped = false;
  private started = false;
  private wake: (() => void) | undefined;
  private failures = 0;

  constructor(
    private readonly consumer: Consumer,
    private readonly pool: ConnectionPool,
    private readonly settings: FetcherSettings,
    private readonly listener: FetcherListener,
  ) {}

  /** Fetches these partitions from these offsets from now on, instead of any before. */
  assign(positions: readonly Position[]): void {
    this.clear();
    for (const position of positions) {
      this.positions.set(keyOf(position.topic, position.partition), { ...position });
    }
    this.notify();
  }

  /** Fetches nothing until the next `assign`; a fetch in flight is dropped. */
  clear(): void {
    this.epoch += 1;
    this.positions = new Map();
    this.paused.clear();
  }

  /** Moves an assigned partition's position (after `outOfRange`). */
  seek(topic: string, partition: number, offset: bigint): void {
    const position = this.positions.get(keyOf(topic, partition));
    if (position) position.offset = offset;
    this.notify();
  }

  pause(topic: string, partition: number): void {
    this.paused.add(keyOf(topic, partition));
  }

  resume(topic: string, partition: number): void {
    if (this.paused.delete(keyOf(topic, partition))) this.notify();
  }

  /** Whether the last fetch failed. */
  get failing(): boolean {
    return this.failures > 0;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.loop();
  }

  /** Ends the loop; a fetch in flight is dropped (its retries end when the client closes). */
  stop(): void {
    this.stopped = true;
    this.clear();
    this.notify();
  }

  /** Read through a getter: `stop()` may have run while the loop awaited. */
  private get halted(): boolean {
    return this.stopped;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private idle(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer =
        ms === undefined
          ? undefined
          : setTimeout(() => {
              this.notify();
            }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const wanted = [...this.positions.entries()]
        .filter(([key]) => !this.paused.has(key))
        .map(([, position]) => position);
      if (wanted.length === 0) {
        await this.idle();
        continue;
      }
      try {
        await this.round(wanted, this.epoch);
        this.failures = 0;
        this.listener.succeeded();
      } catch (error) {
        if (this.halted) break;
        this.failures += 1;
        this.listener.failed(error);
        await this.idle(backoffDelay(this.failures, RETRY));
      }
    }
  }

  /** One fetch per leader of `wanted`, at once; rejects with the first failure, after the rest. */
  private async round(wanted: Position[], epoch: number): Promise<void> {
    const topics = [...new Set(wanted.map(({ topic }) => topic))];
    const metadata = await this.consumer.metadata({ topics });
    const byLeader = new Map<number, Map<string, FetchRequestTopic>>();
    const requested = new Map<string, bigint>();
    const names = new Map<string, string>();
    for (const { topic, partition, offset } of wanted) {
      const info = metadata.topics.get(topic);
      const leader = info?.partitions[partition]?.leader ?? -1;
      if (!info || leader < 0) {
        this.consumer.clearMetadata();
        throw new Error(`No leader known for ${topic} partition ${String(partition)}`);
      }
      names.set(info.id, topic);
      requested.set(keyOf(topic, partition), offset);
      const requests = byLeader.get(leader) ?? new Map<string, FetchRequestTopic>();
      byLeader.set(leader, requests);
      const request = requests.get(info.id) ?? { topicId: info.id, partitions: [] };
      requests.set(info.id, request);
      request.partitions.push({
        partition,
        fetchOffset: offset,
        partitionMaxBytes: this.settings.partitionMaxBytes,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      });
    }
    const outcomes = await Promise.all(
      [...byLeader].map(([node, requests]) =>
        this.consumer
          .fetch({
            node,
            topics: [...requests.values()],
            maxWaitTime: this.settings.maxWaitMs,
            minBytes: 1,
            maxBytes: this.settings.maxBytes,
            isolationLevel: READ_COMMITTED,
            connectionPool: this.pool,
          })
          .then(
            (response) => ({ response, error: undefined }),
            (error: unknown) => ({ response: fetchResponseOf(error), error }),
          ),
      ),
    );
    if (epoch !== this.epoch || this.stopped) return;
    const failures = outcomes
      .filter(({ response }) => !response || this.deliver(response, names, requested))
      .map(({ error }) => error)
      .filter((error) => error !== undefined);
    if (failures.length > 0) throw toError(failures[0]);
  }

  /** Hands over each fetched partition; returns whether some partition failed otherwise. */
  private deliver(
    response: FetchResponse,
    names: Map<string, string>,
    requested: Map<string, bigint>,
  ): boolean {
    let unhandled = false;
    for (const { topicId, partitions } of response.responses) {
      const topic = names.get(topicId);
      if (topic === undefined) continue;
      for (const fetched of partitions) {
        const key = keyOf(topic, fetched.partitionIndex);
        const position = this.positions.get(key);
        // Moved (seek) while the fetch was in flight: this data is not from where it now is.
        if (!position || position.offset !== requested.get(key)) continue;
        if (fetched.errorCode === OFFSET_OUT_OF_RANGE) {
          this.listener.outOfRange(topic, fetched.partitionIndex);
          continue;
        }
        if (fetched.errorCode !== 0) {
          if (STALE_METADATA.has(fetched.errorCode)) this.consumer.clearMetadata();
          else unhandled = true;
          continue;
        }
        const { messages, next } = readFetchedPartition(
          topic,
          fetched.partitionIndex,
          position.offset,
          fetched.records ?? [],
        );
        position.offset = next;
        const lag = fetched.highWatermark - next;
        this.listener.fetched(topic, fetched.partitionIndex, messages, Number(lag > 0n ? lag : 0n));
      }
    }
    return unhandled;
  }
}

function toError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
