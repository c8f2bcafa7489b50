import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type {
  BusHealth,
  MessageHandler,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
} from './bus-message.interface.js';
import { EventBus } from './event-bus.js';
import type { KafkaBusOptions } from './kafka-bus.options.js';
import { KafkaBusState, type KafkaBusMember, type KafkaClientErrors } from './kafka-bus-state.js';
import type { TopicSpec } from './kafka-topic-admin.js';

/**
 * The `EventBus` methods the two Kafka adapters answer alike, whatever the client: each is
 * done by the adapter's `KafkaBusState`. An adapter adds `connect()`, which connects its
 * client and hands it to the state (`KafkaBusState.opened`).
 */
export abstract class KafkaBusBase<M extends KafkaBusMember> extends EventBus {
  protected readonly state: KafkaBusState<M>;

  protected constructor(
    options: Omit<KafkaBusOptions, 'kind'>,
    sanitizer: LogSanitizer,
    clientErrors: KafkaClientErrors,
  ) {
    super();
    this.state = new KafkaBusState(options, sanitizer, clientErrors, (topic, messages) =>
      this.publishBatch(topic, messages),
    );
  }

  /** Concurrent publishes to one topic share produce requests (see `ProduceBatcher`). */
  publish(topic: string, message: OutgoingMessage): Promise<void> {
    return this.state.publish(topic, message);
  }

  publishBatch(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    return this.state.publishBatch(topic, messages);
  }

  subscribe(
    topics: readonly string[],
    groupId: string,
    handler: MessageHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    return this.state.subscribe(topics, groupId, handler, options);
  }

  /** Creates missing topics (with `defaultPartitions` unless given). Needs a connected bus. */
  ensureTopics(topics: readonly TopicSpec[]): Promise<string[]> {
    return this.state.ensureTopics(topics);
  }

  disconnect(): Promise<void> {
    return this.state.disconnect();
  }

  /**
   * `connected` follows what the client reports: false once disconnected, while publishes
   * fail, or while every consumer has crashed; true again as soon as they work.
   */
  health(): BusHealth {
    return this.state.health();
  }
}
