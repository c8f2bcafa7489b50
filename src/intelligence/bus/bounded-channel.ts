export interface BoundedChannelOptions {
  /** Items queued before `push` waits for the iterator to take some. */
  capacity: number;
  /** How long the iterator waits for an item before it fails with `idleError()`. */
  idleMs: number;
  idleError: () => Error;
}

/**
 * A bounded hand-over from a producer that pushes (kafkajs's `eachBatch`) to one async
 * iterator that pulls: `push` waits while `capacity` items are queued, so a slow reader
 * slows the fetching instead of filling memory. The producer calls `end()` or `fail()`;
 * an iterator that stops early closes the channel, which releases every waiting `push`.
 */
export class BoundedChannel<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private ended = false;
  private closed = false;
  private failure: { error: unknown } | undefined;
  private wakeReader: (() => void) | undefined;
  private wakeWriters: (() => void)[] = [];

  constructor(private readonly options: BoundedChannelOptions) {}

  /** Queues `item`; resolves once there is room again (at once when ended or closed). */
  async push(item: T): Promise<void> {
    if (this.ended || this.closed) return;
    this.queue.push(item);
    this.notifyReader();
    while (this.mustWait()) {
      await new Promise<void>((resolve) => this.wakeWriters.push(resolve));
    }
  }

  /** Nothing more comes: the iterator ends after the queued items. */
  end(): void {
    this.ended = true;
    this.notifyReader();
  }

  /** The iterator throws `error` at its next step; queued items are dropped. */
  fail(error: unknown): void {
    this.failure ??= { error };
    this.notifyReader();
  }

  /** The reader is gone: queued items are dropped and waiting pushes return. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.notifyWriters();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        if (this.failure) throw this.failure.error;
        if (this.queue.length > 0) {
          const item = this.queue.shift() as T;
          this.notifyWriters();
          yield item;
          continue;
        }
        if (this.ended) return;
        await this.nextItem();
      }
    } finally {
      this.close();
    }
  }

  /** Waits until something is queued, the channel ends or fails; fails when idle too long. */
  private nextItem(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.fail(this.options.idleError());
      }, this.options.idleMs);
      this.wakeReader = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** A method, not a check inline: `close()` may run while `push` awaits. */
  private mustWait(): boolean {
    return this.queue.length >= this.options.capacity && !this.closed;
  }

  private notifyReader(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }

  private notifyWriters(): void {
    const writers = this.wakeWriters;
    this.wakeWriters = [];
    for (const wake of writers) wake();
  }
}
