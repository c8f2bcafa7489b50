import { settledWithin } from './bounded-wait.js';
import type { BusMessage, MessageHandler } from './bus-message.interface.js';
import { PartitionCommits, type PartitionOffset } from './partition-commits.js';
import { PartitionLag } from './partition-lag.js';
import { PartitionWorker } from './partition-worker.js';
import type { Generation, GroupOffset } from './platformatic-group-requests.js';
import type { BackoffRange } from './redelivery-backoff.js';
import type { SubscriptionErrors } from './subscription-errors.js';

export interface PartitionWorkSettings {
  /** Messages of one partition handled at once (same key in order). */
  concurrency: number;
  /** Messages held per partition before it is paused (resumed at half). */
  capacity: number;
  redelivery: BackoffRange;
  commitIntervalMs: number;
  heartbeatIntervalMs: number;
  /** Longest a release waits for running handlers. */
  drainMs: number;
}

export interface PartitionWorkHooks {
  /** Stop / start fetching a partition (its worker is full / has room again). */
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
  /** Told when a message failed and waits to be delivered again, and when it no longer does. */
  errors: Pick<SubscriptionErrors, 'handlerFailed' | 'handlerRecovered'>;
  /** Commits offsets under `generation` (the broker refuses them once it is over). */
  commit(generation: Generation, offsets: GroupOffset[]): Promise<void>;
  /** Keeps the membership alive while a release waits. */
  heartbeat(): Promise<void>;
}

/** Longest the commit of a release may hold the rejoin (or the close) back. */
const FLUSH_BOUND_MS = 5_000;

const keyOf = (topic: string, partition: number) => `${topic}:${String(partition)}`;

/**
 * The partition workers of one member: those of the current generation, fed by the fetch loop
 * and committed on an interval as their handled prefix under that generation, and the revoked
 * ones, whose running handlers a release waits for (bounded, heartbeating) before it commits
 * what they handled.
 */
export class PartitionWork {
  /** The generation the current workers' partitions were assigned in. */
  generation: Generation | undefined;
  private workers = new Map<string, PartitionWorker>();
  private readonly draining = new Set<PartitionWorker>();
  private readonly commits: PartitionCommits;
  private readonly lag = new PartitionLag();

  constructor(
    private readonly handler: MessageHandler,
    private readonly settings: PartitionWorkSettings,
    private readonly hooks: PartitionWorkHooks,
  ) {
    this.commits = new PartitionCommits(
      settings.commitIntervalMs,
      () => this.workers.values(),
      (offsets) => this.commitOwned(offsets),
    );
  }

  /** Revoked workers not released yet. */
  get revoked(): PartitionWorker[] {
    return [...this.draining];
  }

  startCommits(): void {
    this.commits.start();
  }

  stopCommits(): void {
    this.commits.stop();
  }

  /** Hands a partition's fetched messages to its worker; a full worker pauses the partition. */
  deliver(topic: string, partition: number, messages: BusMessage[], lag: number): void {
    this.lag.record(topic, partition, lag);
    if (messages.length === 0) return;
    const key = keyOf(topic, partition);
    let worker = this.workers.get(key);
    if (!worker) {
      worker = this.createWorker(topic, partition);
      this.workers.set(key, worker);
    }
    if (worker.push(messages)) this.hooks.pause(topic, partition);
  }

  /** Starts nothing new: every current worker is revoked (kept until released). */
  revoke(): PartitionWorker[] {
    this.lag.clear();
    const revoked = [...this.workers.values()];
    for (const worker of revoked) {
      worker.revoke();
      this.draining.add(worker);
    }
    this.workers = new Map();
    return revoked;
  }

  /**
   * Waits (at most the drain bound) for the running handlers of `workers`, heartbeating, then
   * commits what they handled under `generation` (bounded too) and forgets them.
   */
  async release(workers: PartitionWorker[], generation: Generation | undefined): Promise<void> {
    const running = workers.filter((worker) => worker.running > 0);
    if (running.length > 0) {
      const beat = setInterval(() => {
        this.hooks.heartbeat().catch(() => undefined);
      }, this.settings.heartbeatIntervalMs);
      try {
        await settledWithin(
          Promise.all(running.map((worker) => worker.idle())),
          this.settings.drainMs,
        );
      } finally {
        clearInterval(beat);
      }
    }
    await settledWithin(
      this.commits.flush(workers, (offsets) => this.commitAs(generation, offsets)),
      FLUSH_BOUND_MS,
    );
    for (const worker of workers) this.draining.delete(worker);
  }

  lagByTopic(): Record<string, Record<number, number>> {
    return this.lag.byTopic();
  }

  private createWorker(topic: string, partition: number): PartitionWorker {
    const worker: PartitionWorker = new PartitionWorker(topic, partition, this.handler, {
      concurrency: this.settings.concurrency,
      capacity: this.settings.capacity,
      redelivery: this.settings.redelivery,
      onRoom: () => {
        if (this.workers.get(keyOf(topic, partition)) === worker) {
          this.hooks.resume(topic, partition);
        }
      },
      onStuck: (error) => {
        this.hooks.errors.handlerFailed(error);
      },
      onUnstuck: () => {
        this.hooks.errors.handlerRecovered();
      },
    });
    return worker;
  }

  /** The interval's commits: only partitions owned in the current generation. */
  private commitOwned(offsets: PartitionOffset[]): Promise<void> {
    return this.commitAs(
      this.generation,
      offsets.filter(
        ({ worker }) => this.workers.get(keyOf(worker.topic, worker.partition)) === worker,
      ),
    );
  }

  private async commitAs(
    generation: Generation | undefined,
    offsets: PartitionOffset[],
  ): Promise<void> {
    if (offsets.length === 0 || !generation) return;
    await this.hooks.commit(
      generation,
      offsets.map(({ worker, offset }) => ({
        topic: worker.topic,
        partition: worker.partition,
        offset,
      })),
    );
  }
}
