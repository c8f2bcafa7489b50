import type { BusMessage } from './bus-message.interface.js';

export interface TopicReadOptions {
  /**
   * How long a read may go without receiving a message before it fails with `BusError` (a
   * broker that stopped answering, a partition that cannot be fetched). @default 30000
   */
  idleTimeoutMs?: number;
}

/**
 * Reads topics from their beginning up to their end, outside any consumer group the module
 * uses: nothing is committed, nobody else's position moves. Opened with `EventBus.openReader()`.
 */
export interface TopicReader {
  /**
   * Every message of `topic` from the oldest one the broker still holds up to the end each
   * partition had when the read started (later messages are not waited for), in offset order
   * within each partition (partitions interleave). A topic that does not exist reads as
   * empty. Breaking out of the loop ends the read and releases what it held.
   */
  read(topic: string, options?: TopicReadOptions): AsyncIterable<BusMessage>;

  /** Closes the reader's clients. Idempotent. */
  close(): Promise<void>;
}

/** Default of `TopicReadOptions.idleTimeoutMs`. */
export const DEFAULT_READ_IDLE_TIMEOUT_MS = 30_000;
