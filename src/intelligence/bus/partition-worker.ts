import type { BusMessage, HandlerResult, MessageHandler } from './bus-message.interface.js';
import { NotDueYetError } from './bus.errors.js';
import { redeliveryDelay, type BackoffRange } from './redelivery-backoff.js';

export interface PartitionWorkerOptions {
  /** Messages handled at once; same-key messages keep their order (1: strictly in order). */
  concurrency: number;
  /** Messages held (queued, running or waiting for an earlier one) before `full` is true. */
  capacity: number;
  /** Backoff before a message whose handler threw runs again. */
  redelivery: BackoffRange;
  /** Called when a full worker has drained to half its capacity (resume fetching). */
  onRoom: () => void;
  /** A message failed for the first time (it is retried; for health). */
  onStuck: (error: unknown) => void;
  /** A message that had failed is now handled, or given up with the partition. */
  onUnstuck: () => void;
}

interface Entry {
  readonly message: BusMessage;
  done: boolean;
  failures: number;
  /** The next message with the same key, started only once this one finished. */
  next: Entry | undefined;
  readonly key: string | undefined;
}

/** One shared chain: with concurrency 1 every message waits for the one before it. */
const IN_ORDER = '';
/**
 * Messages started back to back before the worker lets timers and I/O run: instant handlers
 * chain as microtasks, which would hold heartbeats and commits back for a whole queue.
 */
const YIELD_EVERY = 256;

/**
 * The work of one assigned partition, apart from the fetch loop: messages are pushed in
 * offset order and handled with up to `concurrency` at once, same-key messages in order
 * (with concurrency 1, all of them). A handler that throws gets its message again after a
 * backoff; only its key (with concurrency 1, its partition) waits meanwhile. `committable`
 * is the offset after the contiguous handled prefix: never past an unfinished message.
 * After `revoke()` nothing new starts and nothing is retried; `idle()` tells when the
 * running handlers are done.
 */
export class PartitionWorker {
  private readonly entries: Entry[] = [];
  /** Index of the first unfinished entry. */
  private head = 0;
  private readonly ready: Entry[] = [];
  private readyHead = 0;
  private readonly tails = new Map<string, Entry>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private active = 0;
  /** Entries whose handler is done and whose acknowledgement still waits. */
  private settling = 0;
  /** Messages that failed and are not handled yet. */
  private stuck = 0;
  private lastDone: string | undefined;
  private lastPushed: string | undefined;
  private revoked = false;
  private wasFull = false;
  private sinceYield = 0;
  private yielding: NodeJS.Immediate | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly handler: MessageHandler,
    private readonly options: PartitionWorkerOptions,
  ) {}

  /** Messages held now: not yet part of the handled prefix. */
  get buffered(): number {
    return this.entries.length - this.head;
  }

  get full(): boolean {
    return this.buffered >= this.options.capacity;
  }

  /** Handlers running, or acknowledgements (dead-letter publishes) settling, now. */
  get running(): number {
    return this.active + this.settling;
  }

  /** The offset to commit: one past the last message of the handled prefix. */
  get committable(): string | undefined {
    return this.lastDone === undefined ? undefined : String(BigInt(this.lastDone) + 1n);
  }

  /**
   * Appends messages in offset order; messages at or below an offset already pushed are
   * ignored (a batch fetched twice is worked once). Returns whether the worker is now full.
   */
  push(messages: readonly BusMessage[]): boolean {
    if (this.revoked) return false;
    for (const message of messages) {
      const offset = message.offset;
      if (this.lastPushed !== undefined && !isAfter(offset, this.lastPushed)) continue;
      this.lastPushed = offset;
      const key = this.options.concurrency === 1 ? IN_ORDER : message.key?.toString('latin1');
      const entry: Entry = { message, done: false, failures: 0, next: undefined, key };
      this.entries.push(entry);
      const tail = key === undefined ? undefined : this.tails.get(key);
      if (tail) tail.next = entry;
      else this.ready.push(entry);
      if (key !== undefined) this.tails.set(key, entry);
    }
    this.pump();
    if (this.full) this.wasFull = true;
    return this.full;
  }

  /** Starts nothing new from now on and cancels pending retries; running handlers go on. */
  revoke(): void {
    if (this.revoked) return;
    this.revoked = true;
    while (this.stuck > 0) this.unstick();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    clearImmediate(this.yielding);
    this.yielding = undefined;
    this.ready.length = 0;
    this.readyHead = 0;
    this.notifyIdle();
  }

  /** Resolves once no handler of this worker is running. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    if (this.yielding) return;
    while (
      !this.revoked &&
      this.active < this.options.concurrency &&
      this.readyHead < this.ready.length
    ) {
      if (++this.sinceYield > YIELD_EVERY) {
        this.yielding = setImmediate(() => {
          this.yielding = undefined;
          this.sinceYield = 0;
          this.pump();
        });
        return;
      }
      const entry = this.ready[this.readyHead++];
      if (entry) this.start(entry);
    }
    if (this.readyHead === this.ready.length && this.readyHead > 0) {
      this.ready.length = 0;
      this.readyHead = 0;
    }
  }

  private start(entry: Entry): void {
    this.active += 1;
    let result: HandlerResult;
    try {
      result = this.handler(entry.message);
    } catch (error) {
      result = Promise.reject(toError(error));
    }
    result.then(
      (ack) => {
        if (ack) this.settle(entry, ack.settled);
        else this.finish(entry);
      },
      (error: unknown) => {
        this.active -= 1;
        this.failed(entry, error);
      },
    );
  }

  /** The handler is done, its acknowledgement waits on `settled`: later messages go on. */
  private settle(entry: Entry, settled: Promise<void>): void {
    this.active -= 1;
    this.settling += 1;
    this.release(entry);
    this.pump();
    settled.then(
      () => {
        this.settling -= 1;
        this.complete(entry);
      },
      (error: unknown) => {
        this.settling -= 1;
        this.failed(entry, error, true);
      },
    );
  }

  private finish(entry: Entry): void {
    this.active -= 1;
    this.release(entry);
    this.complete(entry);
  }

  /** Lets the next message of the same key start. */
  private release(entry: Entry): void {
    const next = entry.next;
    entry.next = undefined;
    if (next) this.ready.push(next);
    else if (entry.key !== undefined && this.tails.get(entry.key) === entry) {
      this.tails.delete(entry.key);
    }
  }

  private complete(entry: Entry): void {
    entry.done = true;
    if (entry.failures > 0 && !this.revoked) this.unstick();
    const entries = this.entries;
    let head = this.head;
    while (head < entries.length && entries[head]?.done) head += 1;
    if (head !== this.head) {
      this.lastDone = entries[head - 1]?.message.offset;
      this.head = head;
      if (head > 1024 && head * 2 > entries.length) {
        entries.splice(0, head);
        this.head = 0;
      }
      if (this.wasFull && this.buffered <= this.options.capacity / 2) {
        this.wasFull = false;
        if (!this.revoked) this.options.onRoom();
      }
    }
    this.pump();
    this.notifyIdle();
  }

  /** Schedules the message again; a released entry (its key went on) runs on its own. */
  private failed(entry: Entry, error: unknown, released = false): void {
    if (this.revoked) {
      this.notifyIdle();
      return;
    }
    if (!(error instanceof NotDueYetError)) {
      if (entry.failures === 0) {
        this.stuck += 1;
        this.options.onStuck(error);
      }
      entry.failures += 1;
    }
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (this.revoked) return;
        if (released) this.start(entry);
        else {
          this.ready.splice(this.readyHead, 0, entry);
          this.pump();
        }
      },
      redeliveryDelay(error, entry.failures, this.options.redelivery),
    );
    this.timers.add(timer);
    this.pump();
  }

  private unstick(): void {
    this.stuck -= 1;
    this.options.onUnstuck();
  }

  private notifyIdle(): void {
    if (this.running !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Whether decimal offset `a` is greater than `b` (no leading zeros, so length decides first). */
function isAfter(a: string, b: string): boolean {
  return a.length === b.length ? a > b : a.length > b.length;
}

function toError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
