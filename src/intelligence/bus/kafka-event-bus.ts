import {
  CompressionTypes,
  Kafka,
  Partitioners,
  type Admin,
  type Message,
  type Producer,
  type RetryOptions,
} from 'kafkajs';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import type {
  BusHealth,
  MessageHandler,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
} from './bus-message.interface.js';
import {
  BusConnectionError,
  BusMessageTooLargeError,
  BusNotConnectedError,
  BusPublishError,
} from './bus.errors.js';
import { EventBus } from './event-bus.js';
import type { KafkaBusOptions } from './kafka-bus.options.js';
import { kafkaLogCreator } from './kafka-log-creator.js';
import { ProduceBatcher } from './kafka-produce-batcher.js';
import { classifyKafkaFailure } from './kafka-failure-classifier.js';
import { KafkaSubscription } from './kafka-subscription.js';
import { SubscriptionErrors } from './subscription-errors.js';
import { ensureTopics, pinLatestStart, type TopicSpec } from './kafka-topic-admin.js';

type KafkaEventBusOptions = Omit<KafkaBusOptions, 'kind'> & { clientId: string };

/**
 * The event bus on Apache Kafka (kafkajs): an idempotent acks=all producer, one kafkajs
 * consumer per subscription with at-least-once commits, structured sanitized logs.
 */
export class KafkaEventBus extends EventBus {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly knownTopics = new Set<string>();
  private readonly ensuring = new Map<string, Promise<void>>();
  private connected = false;
  /** A publish failed and none succeeded since: the client has lost the broker. */
  private publishFailing = false;
  private readonly errors: SubscriptionErrors;
  private readonly batcher = new ProduceBatcher((topic, messages) =>
    this.publishBatch(topic, messages),
  );

  constructor(
    private readonly options: KafkaEventBusOptions,
    private readonly sanitizer: LogSanitizer = new LogSanitizer(),
  ) {
    super();
    this.errors = new SubscriptionErrors(sanitizer);
    const retry: RetryOptions = { retries: options.connectRetries ?? 3, maxRetryTime: 2_000 };
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
      ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      retry,
      logCreator: kafkaLogCreator(sanitizer),
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    const producer = this.kafka.producer({
      idempotent: this.options.idempotent ?? true,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: this.options.publishRetries ?? 5 },
    });
    const admin = this.kafka.admin();
    try {
      await producer.connect();
      await admin.connect();
    } catch (error) {
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
      this.errors.crashed(error);
      const failed = new BusConnectionError(
        `Cannot connect to Kafka at ${this.brokers().join(',')}: ${this.sanitizer.describeError(error)}`,
      );
      failed.failure = classifyKafkaFailure(error, {
        sasl: this.options.sasl !== undefined,
        tls: this.options.ssl !== undefined && this.options.ssl !== false,
      });
      throw failed;
    }
    this.producer = producer;
    this.admin = admin;
    this.connected = true;
    this.publishFailing = false;
    this.errors.recovered();
  }

  /** Concurrent publishes to one topic share produce requests (see `ProduceBatcher`). */
  publish(topic: string, message: OutgoingMessage): Promise<void> {
    if (!this.connected) return Promise.reject(new BusNotConnectedError('publish'));
    return this.batcher.add(topic, message);
  }

  async publishBatch(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (!this.connected) throw new BusNotConnectedError('publish');
    if ((this.options.createTopics ?? true) && !this.knownTopics.has(topic)) {
      await this.ensureTopicForPublish(topic);
    }
    // Read after the await: a disconnect meanwhile takes the producer away.
    const producer = this.producer;
    if (!producer) throw new BusNotConnectedError('publish');
    try {
      await producer.send({
        topic,
        acks: -1,
        compression:
          this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: messages.map(toKafkaMessage),
      });
    } catch (error) {
      const tooLarge = isTooLarge(error);
      if (!tooLarge) {
        this.publishFailing = true;
        this.errors.crashed(error);
      }
      const ErrorType = tooLarge ? BusMessageTooLargeError : BusPublishError;
      throw new ErrorType(`Publishing to ${topic} failed: ${this.sanitizer.describeError(error)}`);
    }
    if (this.publishFailing) {
      this.publishFailing = false;
      this.errors.recovered();
    }
  }

  async subscribe(
    topics: readonly string[],
    groupId: string,
    handler: MessageHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    if (!this.connected) throw new BusNotConnectedError('subscribe');
    if (this.options.createTopics ?? true) {
      await this.ensureTopics(topics.map((topic) => ({ topic })));
    }
    if (!(options.fromBeginning ?? false) && this.admin) {
      await pinLatestStart(this.admin, groupId, topics).catch(() => undefined);
    }
    const subscription = new KafkaSubscription(
      this.kafka,
      groupId,
      topics,
      handler,
      options,
      {
        sessionTimeoutMs: this.options.sessionTimeoutMs ?? 30_000,
        heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 3_000,
        commitIntervalMs: this.options.commitIntervalMs ?? 1_000,
        fetchMaxWaitMs: this.options.fetchMaxWaitMs ?? 100,
        retries: this.options.consumerRetries ?? 5,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
        maxBufferedPerPartition: this.options.maxBufferedPerPartition ?? 1_000,
      },
      this.sanitizer,
    );
    this.subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (error) {
      this.subscriptions.delete(subscription);
      throw new BusConnectionError(
        `Cannot start consumer group ${groupId}: ${this.sanitizer.describeError(error)}`,
      );
    }
    return {
      groupId,
      topics: subscription.topics,
      close: async () => {
        await subscription.close();
        this.subscriptions.delete(subscription);
      },
    };
  }

  /**
   * The first publish to a topic creates it like a subscribed one (`defaultPartitions`), not
   * as the broker's auto-creation would (1 partition, and a retriable error on the first
   * produce). Concurrent first publishes share one check; if creating fails (not allowed,
   * say) the publish goes on and the broker decides.
   */
  private ensureTopicForPublish(topic: string): Promise<void> {
    let pending = this.ensuring.get(topic);
    if (!pending) {
      pending = this.ensureTopics([{ topic }])
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => this.ensuring.delete(topic));
      this.ensuring.set(topic, pending);
    }
    return pending;
  }

  /** Creates missing topics (with `defaultPartitions` unless given). Needs a connected bus. */
  async ensureTopics(topics: readonly TopicSpec[]): Promise<string[]> {
    const admin = this.admin;
    if (!this.connected || !admin) throw new BusNotConnectedError('create topics');
    const wanted = topics.filter(({ topic }) => !this.knownTopics.has(topic));
    if (wanted.length === 0) return [];
    const created = await ensureTopics(
      admin,
      wanted.map((spec) => ({
        ...spec,
        numPartitions: spec.numPartitions ?? this.options.defaultPartitions ?? 3,
      })),
    );
    for (const { topic } of wanted) this.knownTopics.add(topic);
    return created;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await Promise.allSettled([...this.subscriptions].map((subscription) => subscription.close()));
    this.subscriptions.clear();
    const producer = this.producer;
    const admin = this.admin;
    this.producer = undefined;
    this.admin = undefined;
    await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
  }

  /**
   * `connected` follows what the client reports: false once disconnected, while publishes
   * fail, or while every consumer has crashed; true again as soon as they work.
   */
  health(): BusHealth {
    const subscriptions = [...this.subscriptions].map((subscription) => subscription.health());
    const consumersLost =
      subscriptions.length > 0 && subscriptions.every(({ state }) => state === 'crashed');
    return {
      kind: 'kafka',
      connected: this.connected && !this.publishFailing && !consumersLost,
      brokers: this.brokers(),
      subscriptions,
      ...this.errors.health(),
    };
  }

  private brokers(): string[] {
    return this.options.brokers.map((broker) => this.sanitizer.sanitize(broker));
  }
}

function toKafkaMessage(message: OutgoingMessage): Message {
  return {
    key: message.key ?? null,
    value: message.value,
    ...(message.headers === undefined ? {} : { headers: message.headers }),
  };
}

function isTooLarge(error: unknown): boolean {
  let current: unknown = error;
  while (current instanceof Error) {
    if ((current as { type?: string }).type === 'MESSAGE_TOO_LARGE') return true;
    current = (current as { originalError?: unknown }).originalError ?? current.cause;
  }
  return false;
}
