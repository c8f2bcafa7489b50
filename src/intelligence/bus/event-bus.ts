import type {
  BusHealth,
  MessageHandler,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
} from './bus-message.interface.js';
import { UnsupportedBusCapabilityError } from './bus.errors.js';
import type { TopicReader } from './topic-reader.js';

/**
 * The port between the module and a message broker. The module only ever talks to this
 * class; `InMemoryEventBus` and `KafkaEventBus` implement it, and so can your own adapter.
 *
 * Delivery is at least once: a message is acknowledged when its handler resolves; a
 * handler that throws gets the message again. Within a consumer group each message goes to
 * one member; every group gets every message; messages with the same key keep their order.
 */
export abstract class EventBus {
  /** Connects to the broker. Resolves when ready, rejects with `BusConnectionError`. */
  abstract connect(): Promise<void>;

  /** Publishes one message; resolves once the broker has accepted it. */
  abstract publish(topic: string, message: OutgoingMessage): Promise<void>;

  /** Publishes several messages to one topic in one request where the broker allows. */
  abstract publishBatch(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;

  /** Joins `groupId` as one member consuming `topics`. Requires a connected bus. */
  abstract subscribe(
    topics: readonly string[],
    groupId: string,
    handler: MessageHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription>;

  /** Closes every subscription (committing what was handled), then the connection. Idempotent. */
  abstract disconnect(): Promise<void>;

  /** Live state, computed without contacting the broker. */
  abstract health(): BusHealth;

  /**
   * Opens a `TopicReader`, which reads topics from their beginning without joining or moving
   * any consumer group (`DeadLetterReplayer` reads dead letters with it). Requires a connected
   * bus; close the reader when done. An adapter that does not override this rejects with
   * `UnsupportedBusCapabilityError`.
   */
  openReader(): Promise<TopicReader> {
    return Promise.reject(
      new UnsupportedBusCapabilityError('reading topics (openReader)', this.constructor.name),
    );
  }
}
