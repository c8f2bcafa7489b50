import type { BusMessage } from './bus-message.interface.js';
import { BusError } from './bus.errors.js';
import type { InMemoryTopic } from './in-memory-topic.js';
import type { TopicReader } from './topic-reader.js';

/** Messages read before the reader yields to the event loop. */
const YIELD_EVERY = 1_000;

/**
 * The embedded bus's `TopicReader`: a snapshot of each partition taken when the read starts,
 * the unconsumed messages or the partition's history, whichever reaches further back (see
 * `InMemoryEventBusOptions.readerHistory`).
 */
export class InMemoryTopicReader implements TopicReader {
  private closed = false;

  constructor(private readonly lookup: (topic: string) => InMemoryTopic | undefined) {}

  async *read(topic: string): AsyncIterable<BusMessage> {
    if (this.closed) throw new BusError(`Cannot read ${topic}: the topic reader is closed`);
    const snapshot = this.lookup(topic)?.partitions.map((partition) => partition.readable()) ?? [];
    let read = 0;
    for (const message of snapshot.flat()) {
      yield message;
      if (++read % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
