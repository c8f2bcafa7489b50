import type { BusMessage } from '../bus/bus-message.interface.js';

/** One dead-letter topic partition, as `DeadLetterReplayer.purgeReport` finds it. */
export interface PurgePartitionReport {
  topic: string;
  partition: number;
  /** Messages the partition holds (anything on it, dead letter or not). */
  entries: number;
  /** Of them, the dead letters the replay ledger records as replayed. */
  replayed: number;
  /**
   * Every message below this offset was replayed: Kafka's delete-records up to it (it is
   * exclusive) removes nothing that was not. The partition's first offset when its oldest
   * message was not replayed; one past its last when all were.
   */
  safeDeleteBefore: string;
  /** When its oldest message failed (ISO-8601). */
  oldestAt: string;
}

export interface PurgeReport {
  partitions: PurgePartitionReport[];
}

interface Tally {
  entries: number;
  replayed: number;
  safe: bigint;
  blocked: boolean;
  oldest: number;
}

/** Counts the messages of dead-letter partitions, read in offset order per partition. */
export class PurgeTally {
  private readonly partitions = new Map<string, Tally & { topic: string; partition: number }>();

  /** `message` failed at `failedAt` (ISO-8601) and was replayed or not. */
  add(message: BusMessage, replayed: boolean, failedAt: string): void {
    const key = `${message.topic}\u0000${String(message.partition)}`;
    const offset = BigInt(message.offset);
    let tally = this.partitions.get(key);
    if (!tally) {
      tally = {
        topic: message.topic,
        partition: message.partition,
        entries: 0,
        replayed: 0,
        safe: offset,
        blocked: false,
        oldest: Infinity,
      };
      this.partitions.set(key, tally);
    }
    tally.entries += 1;
    if (replayed) tally.replayed += 1;
    if (!tally.blocked) {
      tally.blocked = !replayed;
      tally.safe = replayed ? offset + 1n : offset;
    }
    const at = Date.parse(failedAt);
    if (at < tally.oldest) tally.oldest = at;
  }

  /** The partitions seen, by topic (in `topics` order) then partition. */
  report(topics: readonly string[]): PurgeReport {
    const partitions = [...this.partitions.values()]
      .sort(
        (a, b) => topics.indexOf(a.topic) - topics.indexOf(b.topic) || a.partition - b.partition,
      )
      .map(({ topic, partition, entries, replayed, safe, oldest }) => ({
        topic,
        partition,
        entries,
        replayed,
        safeDeleteBefore: safe.toString(),
        oldestAt: Number.isFinite(oldest) ? new Date(oldest).toISOString() : '',
      }));
    return { partitions };
  }
}
