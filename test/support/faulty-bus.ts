import type {
  MessageHandler,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
} from '../../src/intelligence/bus/bus-message.interface.js';
import { InMemoryEventBus } from '../../src/intelligence/bus/in-memory-event-bus.js';

/** The embedded bus with faults a test can switch on: real code paths, injected failures. */
export class FaultyBus extends InMemoryEventBus {
  /** Thrown by the next `subscribe` calls while set. */
  subscribeError: Error | undefined;
  /** Thrown by `connect` while set. */
  connectError: Error | undefined;
  /** `connect` waits this long first. */
  connectDelayMs = 0;
  /** `connect` waits for this promise first, when set (the test decides when it completes). */
  connectGate: Promise<void> | undefined;
  /** `subscribe` waits this long first (and then may still succeed). */
  subscribeDelayMs = 0;
  /** `subscribe` subscribes, then waits this long before resolving (a late completion). */
  subscribeResolveDelayMs = 0;
  /** Subscriptions handed out, with how often their `close()` was called. */
  readonly handedOut: { subscription: Subscription; closeCalls: number }[] = [];
  readonly published: { topic: string; message: OutgoingMessage }[] = [];
  connects = 0;
  disconnects = 0;

  /** When each `connect` call came (performance.now()). */
  readonly connectTimes: number[] = [];

  override async connect(): Promise<void> {
    this.connects += 1;
    this.connectTimes.push(performance.now());
    if (this.connectGate) await this.connectGate;
    if (this.connectDelayMs)
      await new Promise((resolve) => setTimeout(resolve, this.connectDelayMs));
    if (this.connectError) throw this.connectError;
    await super.connect();
  }

  override async subscribe(
    topics: readonly string[],
    groupId: string,
    handler: MessageHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    if (this.subscribeDelayMs) {
      await new Promise((resolve) => setTimeout(resolve, this.subscribeDelayMs));
    }
    if (this.subscribeError) throw this.subscribeError;
    const inner = await super.subscribe(topics, groupId, handler, options);
    const entry = { subscription: inner, closeCalls: 0 };
    entry.subscription = {
      groupId: inner.groupId,
      topics: inner.topics,
      close: () => {
        entry.closeCalls += 1;
        return inner.close();
      },
    };
    this.handedOut.push(entry);
    if (this.subscribeResolveDelayMs) {
      await new Promise((resolve) => setTimeout(resolve, this.subscribeResolveDelayMs));
    }
    return entry.subscription;
  }

  override async publishBatch(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    await super.publishBatch(topic, messages);
    for (const message of messages) this.published.push({ topic, message });
  }

  override async disconnect(): Promise<void> {
    this.disconnects += 1;
    await super.disconnect();
  }

  /** Decoded envelopes published on `topic`. */
  envelopes(topic: string): Record<string, unknown>[] {
    return this.published
      .filter((entry) => entry.topic === topic)
      .map(
        (entry) => JSON.parse(entry.message.value?.toString() ?? 'null') as Record<string, unknown>,
      );
  }
}
