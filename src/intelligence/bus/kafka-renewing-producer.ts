import type { Producer } from 'kafkajs';

interface Held {
  producer: Producer;
  /** Sends started on it and not settled yet. */
  inFlight: number;
  /** Replaced: disconnected once its last send settles. */
  retired: boolean;
}

/**
 * The bus's kafkajs producer, taken anew after a failed send when it is idempotent.
 *
 * kafkajs gives each partition's messages sequence numbers and takes them back when a produce
 * request fails. A request that failed because its leader died may still have been written:
 * the followers had fetched it, and one of them leads now. The next messages for that partition
 * would then carry the sequence numbers of the ones written, and the broker acknowledges a batch
 * it takes for a duplicate without writing it. A new producer (a new producer id, sequences from
 * 0) cannot collide with what the old one wrote. Sends in flight on the old producer finish
 * there; it is disconnected after the last of them.
 */
export class RenewingProducer {
  private held: Held;
  /** The connect of the next producer, while a send waits for it. */
  private renewal: Promise<Held> | undefined;
  private stale = false;
  private readonly retired = new Set<Held>();

  constructor(
    first: Producer,
    private readonly create: () => Producer,
    private readonly idempotent: boolean,
  ) {
    this.held = { producer: first, inFlight: 0, retired: false };
  }

  /**
   * Runs `send` on the current producer. When it throws and `keep(error)` is false (the send
   * may have been partly written), an idempotent producer is replaced before the next send.
   */
  async run<T>(
    send: (producer: Producer) => Promise<T>,
    keep: (error: unknown) => boolean,
  ): Promise<T> {
    const held = await this.current();
    held.inFlight += 1;
    try {
      return await send(held.producer);
    } catch (error) {
      if (this.idempotent && held === this.held && !keep(error)) this.stale = true;
      throw error;
    } finally {
      held.inFlight -= 1;
      if (held.retired && held.inFlight === 0) void this.release(held);
    }
  }

  /** Disconnects every producer it holds; never rejects. */
  async close(): Promise<void> {
    if (this.renewal) await this.renewal.catch(() => undefined);
    const all = [this.held, ...this.retired];
    this.retired.clear();
    await Promise.allSettled(all.map(({ producer }) => producer.disconnect()));
  }

  private current(): Promise<Held> {
    if (!this.stale) return Promise.resolve(this.held);
    this.renewal ??= this.renew().finally(() => {
      this.renewal = undefined;
    });
    return this.renewal;
  }

  /** A connected new producer in place of the stale one; stays stale when the connect fails. */
  private async renew(): Promise<Held> {
    const producer = this.create();
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    const old = this.held;
    this.held = { producer, inFlight: 0, retired: false };
    this.stale = false;
    old.retired = true;
    this.retired.add(old);
    if (old.inFlight === 0) void this.release(old);
    return this.held;
  }

  private async release(held: Held): Promise<void> {
    if (!this.retired.delete(held)) return;
    await held.producer.disconnect().catch(() => undefined);
  }
}
