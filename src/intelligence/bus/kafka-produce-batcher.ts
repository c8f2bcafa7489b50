import type { OutgoingMessage } from './bus-message.interface.js';

interface Pending {
  message: OutgoingMessage;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Packs concurrent single publishes into produce requests: per topic at most one request is
 * in flight, and what arrives meanwhile goes out together in the next one. An idle topic
 * sends at once, so nothing waits for a timer. A failed request fails every publish in it
 * (none of them was confirmed; each caller still owns its message).
 */
export class ProduceBatcher {
  private readonly queues = new Map<string, Pending[]>();
  private readonly busy = new Set<string>();

  constructor(
    private readonly send: (topic: string, messages: OutgoingMessage[]) => Promise<void>,
    private readonly maxBatch = 500,
  ) {}

  add(topic: string, message: OutgoingMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(topic);
      if (!queue) {
        queue = [];
        this.queues.set(topic, queue);
      }
      queue.push({ message, resolve, reject });
      if (!this.busy.has(topic)) this.flush(topic);
    });
  }

  private flush(topic: string): void {
    const queue = this.queues.get(topic);
    if (!queue || queue.length === 0) {
      this.queues.delete(topic);
      return;
    }
    const batch = queue.splice(0, this.maxBatch);
    this.busy.add(topic);
    this.send(
      topic,
      batch.map((pending) => pending.message),
    )
      .then(
        () => {
          for (const pending of batch) pending.resolve();
        },
        (error: unknown) => {
          for (const pending of batch) pending.reject(error);
        },
      )
      .finally(() => {
        this.busy.delete(topic);
        this.flush(topic);
      });
  }
}
