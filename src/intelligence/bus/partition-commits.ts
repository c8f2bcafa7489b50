import type { PartitionWorker } from './partition-worker.js';

/** A partition's offset to commit: one past its handled prefix. */
export interface PartitionOffset {
  worker: PartitionWorker;
  offset: string;
}

export type CommitFn = (offsets: PartitionOffset[]) => Promise<void>;

/**
 * When handled offsets are committed: on an interval for the workers that moved on, and on
 * demand (`flush`) before a rebalance or a close. One commit runs at a time, so an older
 * offset never lands after a newer one. A failed commit is tried again at the next tick.
 */
export class PartitionCommits {
  private readonly committed = new WeakMap<PartitionWorker, string>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly current: () => Iterable<PartitionWorker>,
    private readonly commit: CommitFn,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.inFlight) void this.run([...this.current()], this.commit);
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Waits for a running commit, then commits what `workers` handled since (with `commit`). */
  async flush(workers: readonly PartitionWorker[], commit: CommitFn): Promise<void> {
    await this.inFlight;
    await this.run(workers, commit);
  }

  private run(workers: readonly PartitionWorker[], commit: CommitFn): Promise<void> {
    const offsets: PartitionOffset[] = [];
    for (const worker of workers) {
      const offset = worker.committable;
      if (offset !== undefined && this.committed.get(worker) !== offset) {
        offsets.push({ worker, offset });
      }
    }
    if (offsets.length === 0) return Promise.resolve();
    const running = commit(offsets).then(
      () => {
        for (const { worker, offset } of offsets) this.committed.set(worker, offset);
      },
      () => undefined,
    );
    this.inFlight = running.finally(() => {
      if (this.inFlight === tracked) this.inFlight = undefined;
    });
    const tracked = this.inFlight;
    return tracked;
  }
}
