import type { BusMessage } from './bus-message.interface.js';

/**
 * One partition's retained messages; `base` is the offset of `entries[0]`. Consumed messages
 * leave `entries`; the newest `historyLimit` of all stay readable (`readable()`) for
 * `openReader()`, as a Kafka log keeps them until retention.
 */
export class InMemoryPartition {
  base = 0;
  readonly entries: BusMessage[] = [];
  /** The newest messages, consumed or not: `historyLimit` to twice that, trimmed in steps. */
  private history: BusMessage[] = [];

  constructor(private readonly historyLimit: number) {}

  get end(): number {
    return this.base + this.entries.length;
  }

  append(message: BusMessage): void {
    this.entries.push(message);
    if (this.historyLimit === 0) return;
    this.history.push(message);
    if (this.history.length >= 2 * this.historyLimit) {
      this.history = this.history.slice(-this.historyLimit);
    }
  }

  /** What a reader sees, oldest first: the unconsumed messages or the history, the longer. */
  readable(): BusMessage[] {
    const recent = this.historyLimit === 0 ? [] : this.history.slice(-this.historyLimit);
    return recent.length >= this.entries.length ? recent : [...this.entries];
  }

  at(offset: number): BusMessage | undefined {
    return this.entries[offset - this.base];
  }

  /** Drops every message below `offset`. */
  trimBelow(offset: number): void {
    const count = Math.min(this.entries.length, offset - this.base);
    if (count <= 0) return;
    this.entries.splice(0, count);
    this.base += count;
  }
}

/** A topic of the embedded bus: partitions plus each consumer group's next offset. */
export class InMemoryTopic {
  readonly partitions: InMemoryPartition[];
  /** groupId → next offset to deliver, per partition. */
  readonly cursors = new Map<string, number[]>();
  private roundRobin = 0;

  constructor(
    readonly name: string,
    partitionCount: number,
    historyLimit: number,
  ) {
    this.partitions = Array.from(
      { length: partitionCount },
      () => new InMemoryPartition(historyLimit),
    );
  }

  nextPartition(): number {
    this.roundRobin = (this.roundRobin + 1) % this.partitions.length;
    return this.roundRobin;
  }

  retained(): number {
    return this.partitions.reduce((sum, partition) => sum + partition.entries.length, 0);
  }

  /** Adds a group's cursors if it has none yet: at the start or at the end of each partition. */
  join(groupId: string, fromBeginning: boolean): number[] {
    let cursor = this.cursors.get(groupId);
    if (!cursor) {
      cursor = this.partitions.map((partition) => (fromBeginning ? partition.base : partition.end));
      this.cursors.set(groupId, cursor);
    }
    return cursor;
  }

  /** Drops what every group has consumed; with no group, keeps the newest `retain` messages. */
  trim(partitionIndex: number, retain: number): void {
    const partition = this.partitions[partitionIndex];
    if (!partition) return;
    if (this.cursors.size === 0) {
      partition.trimBelow(partition.end - retain);
      return;
    }
    let low = partition.end;
    for (const cursor of this.cursors.values()) low = Math.min(low, cursor[partitionIndex] ?? low);
    partition.trimBelow(low);
  }
}
