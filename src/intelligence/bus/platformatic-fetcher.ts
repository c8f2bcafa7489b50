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
/** A dead leader is replaced within seconds: its partitions look for the new one at least every 500 ms. */
const RETRY: BackoffRange = { initialMs: 100, maxMs: 500 };

const keyOf = (topic: string, partition: number) => `${topic}:${String(partition)}`;

/**
 * The fetch loop of one subscription on @platformatic/kafka's `Consumer.fetch` (its
 * `MessagesStream` pauses only as a whole). Every assigned partition that is not paused is
 * fetched, one request per leader, on a connection pool of its own (so group requests on the
 * coordinator connection never queue behind a fetch), and its messages are handed over. The
 * leaders are fetched from independently: a partition is fetched again as soon as its own
 * fetch returned, so a dead or slow leader holds back only its partitions (which back off and
 * find their new leader through fresh metadata). `assign` and `clear` start a new epoch: a
 * fetch still in flight from the old one is dropped.
 */
export class PartitionFetcher {
  private positions = new Map<string, Position>();
  private readonly paused = new Set<string>();
  /** Partitions in a fetch under way, and the leaders it went to (kept across epochs). */
  private readonly inFlight = new Set<string>();
  private readonly busyLeaders = new Set<number>();
  /** `notify()` came while the loop was not idle. */
  private woken = false;
  /** Partitions whose last fetch failed: how often in a row, and when to try again. */
  private readonly failed = new Map<string, { count: number; retryAt: number }>();
  private epoch = 0;
  private stopped = false;
  private started = false;
  private wake: (() => void) | undefined;

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
    this.inFlight.clear();
    this.failed.clear();
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

  /** Whether the last fetch of some partition failed. */
  get failing(): boolean {
    return this.failed.size > 0;
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

  /** Wakes the loop; if it is not idle, its next `idle()` returns at once. */
  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    if (wake) wake();
    else this.woken = true;
  }

  private idle(ms?: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
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
      const at = Date.now();
      const wanted: Position[] = [];
      let nextRetry: number | undefined;
      for (const [key, position] of this.positions) {
        if (this.paused.has(key) || this.inFlight.has(key)) continue;
        const retryAt = this.failed.get(key)?.retryAt ?? 0;
        if (retryAt <= at) wanted.push(position);
        else nextRetry = Math.min(nextRetry ?? retryAt, retryAt);
      }
      if (wanted.length === 0) {
        await this.idle(nextRetry === undefined ? undefined : nextRetry - at);
        continue;
      }
      // Nothing started (every leader has a fetch under way): wait for one to return.
      if (!(await this.fetchFromLeaders(wanted, this.epoch))) await this.idle();
    }
  }

  /**
   * Starts one fetch per leader of `wanted` that has none under way (a partition of a busy
   * leader joins its next fetch); each hands over what it got when it returns. Resolves with
   * whether it started a fetch or backed a partition off.
   */
  private async fetchFromLeaders(wanted: Position[], epoch: number): Promise<boolean> {
    const topics = [...new Set(wanted.map(({ topic }) => topic))];
    let metadata: Awaited<ReturnType<Consumer['metadata']>>;
    try {
      metadata = await this.consumer.metadata({ topics });
    } catch (error) {
      if (epoch !== this.epoch || this.stopped) return false;
      this.fail(wanted, error);
      return true;
    }
    if (epoch !== this.epoch || this.stopped) return false;
    const byLeader = new Map<number, Position[]>();
    const leaderless: Position[] = [];
    const names = new Map<string, string>();
    for (const position of wanted) {
      const info = metadata.topics.get(position.topic);
      const leader = info?.partitions[position.partition]?.leader ?? -1;
      if (!info || leader < 0) {
        leaderless.push(position);
        continue;
      }
      names.set(info.id, position.topic);
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), position]);
    }
    if (leaderless.length > 0) {
      this.consumer.clearMetadata();
      const [first] = leaderless;
      this.fail(
        leaderless,
        new Error(
          `No leader known for ${String(first?.topic)} partition ${String(first?.partition)}`,
        ),
      );
    }
    let started = leaderless.length > 0;
    for (const [node, positions] of byLeader) {
      if (this.busyLeaders.has(node)) continue;
      started = true;
      void this.fetchFrom(node, positions, metadata, names, epoch);
    }
    return started;
  }

  private async fetchFrom(
    node: number,
    positions: Position[],
    metadata: Awaited<ReturnType<Consumer['metadata']>>,
    names: Map<string, string>,
    epoch: number,
  ): Promise<void> {
    const requests = new Map<string, FetchRequestTopic>();
    const requested = new Map<string, bigint>();
    for (const { topic, partition, offset } of positions) {
      const topicId = metadata.topics.get(topic)?.id ?? '';
      const request = requests.get(topicId) ?? { topicId, partitions: [] };
      requests.set(topicId, request);
      request.partitions.push({
        partition,
        fetchOffset: offset,
        partitionMaxBytes: this.settings.partitionMaxBytes,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      });
      const key = keyOf(topic, partition);
      requested.set(key, offset);
      this.inFlight.add(key);
    }
    this.busyLeaders.add(node);
    const outcome = await this.consumer
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
      )
      .finally(() => {
        this.busyLeaders.delete(node);
      });
    if (epoch !== this.epoch || this.stopped) {
      this.notify();
      return;
    }
    for (const key of requested.keys()) this.inFlight.delete(key);
    // No response: every partition failed. A partition answered with an error code backs off
    // too (after a metadata refresh), without counting as a failed fetch.
    const errored = outcome.response
      ? this.deliver(outcome.response, names, requested)
      : new Set(requested.keys());
    const failed = positions.filter(({ topic, partition }) => errored.has(keyOf(topic, partition)));
    if (failed.length > 0) {
      this.consumer.clearMetadata();
      this.backOff(failed);
      if (!outcome.response) this.listener.failed(toError(outcome.error));
    }
    this.recovered(positions.filter((position) => !failed.includes(position)));
    this.notify();
  }

  /** The partitions' fetch failed: each backs off (growing with its failures in a row). */
  private fail(positions: readonly Position[], error: unknown): void {
    this.backOff(positions);
    this.listener.failed(toError(error));
  }

  private backOff(positions: readonly Position[]): void {
    const at = Date.now();
    for (const { topic, partition } of positions) {
      const key = keyOf(topic, partition);
      const count = (this.failed.get(key)?.count ?? 0) + 1;
      this.failed.set(key, { count, retryAt: at + backoffDelay(count, RETRY) });
    }
  }

  private recovered(positions: readonly Position[]): void {
    for (const { topic, partition } of positions) this.failed.delete(keyOf(topic, partition));
    if (positions.length > 0 && this.failed.size === 0) this.listener.succeeded();
  }

  /** Hands over each fetched partition; returns those answered with an error code. */
  private deliver(
    response: FetchResponse,
    names: Map<string, string>,
    requested: Map<string, bigint>,
  ): Set<string> {
    const errored = new Set<string>();
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
          errored.add(key);
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
    return errored;
  }
}

function toError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
