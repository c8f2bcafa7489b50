import type { Admin } from '@platformatic/kafka';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import type { BusFailure } from './bus-failure.js';
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
import { ProduceBatcher } from './kafka-produce-batcher.js';
import type { TopicSpec } from './kafka-topic-admin.js';
import {
  platformaticConnection,
  UnsupportedSaslMechanismError,
  type PlatformaticConnection,
} from './platformatic-client-options.js';
import {
  classifyPlatformaticFailure,
  summarizePlatformaticError,
} from './platformatic-failure-classifier.js';
import {
  loadPlatformaticKafka,
  PlatformaticKafkaUnavailableError,
  type PlatformaticKafkaModule,
} from './platformatic-loader.js';
import { bridgePlatformaticLogs } from './platformatic-log-bridge.js';
import {
  createBusProducer,
  isTooLarge,
  sendBatch,
  type BusProducer,
} from './platformatic-publisher.js';
import { PlatformaticSubscription } from './platformatic-subscription.js';
import {
  ensurePlatformaticTopics,
  pinPlatformaticLatestStart,
} from './platformatic-topic-admin.js';
import { SubscriptionErrors } from './subscription-errors.js';

type PlatformaticEventBusOptions = Omit<KafkaBusOptions, 'kind'> & { clientId: string };

interface Clients {
  kafka: PlatformaticKafkaModule;
  connection: PlatformaticConnection;
  producer: BusProducer;
  admin: Admin;
  detach: (() => void)[];
}

/**
 * The event bus on Apache Kafka through @platformatic/kafka 1.x (an optional peer dependency,
 * loaded by `connect()`): an idempotent acks=all producer, one consumer per subscription with
 * at-least-once commits, structured sanitized logs. It behaves as `KafkaEventBus` does; see
 * `PlatformaticSubscription` for the consumer and `registerBeforeJoin` for the rebalance drain.
 */
export class PlatformaticKafkaEventBus extends EventBus {
  private clients: Clients | undefined;
  private readonly subscriptions = new Set<PlatformaticSubscription>();
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
    private readonly options: PlatformaticEventBusOptions,
    private readonly sanitizer: LogSanitizer = new LogSanitizer(),
  ) {
    super();
    this.errors = new SubscriptionErrors(sanitizer);
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    const { kafka, connection } = await this.prepare();
    const admin = new kafka.Admin({ ...connection, retries: this.options.connectRetries ?? 3 });
    const producer = createBusProducer(kafka, connection, this.options);
    const detach = [
      bridgePlatformaticLogs(admin, this.sanitizer, 'PlatformaticAdmin'),
      bridgePlatformaticLogs(producer, this.sanitizer, 'PlatformaticProducer'),
    ];
    try {
      await admin.metadata({ topics: [] });
      if (this.options.idempotent ?? true) await producer.initIdempotentProducer({});
    } catch (error) {
      await Promise.allSettled([producer.close(), admin.close()]);
      for (const off of detach) off();
      throw this.connectionError(
        error,
        classifyPlatformaticFailure(error, {
          sasl: this.options.sasl !== undefined,
          tls: this.options.ssl !== undefined && this.options.ssl !== false,
        }),
      );
    }
    this.clients = { kafka, connection, producer, admin, detach };
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
    const producer = this.clients?.producer;
    if (!producer) throw new BusNotConnectedError('publish');
    try {
      await sendBatch(producer, topic, messages);
    } catch (error) {
      const tooLarge = isTooLarge(error);
      const summary = summarizePlatformaticError(error);
      if (!tooLarge) {
        this.publishFailing = true;
        this.errors.crashed(summary);
      }
      const ErrorType = tooLarge ? BusMessageTooLargeError : BusPublishError;
      throw new ErrorType(
        `Publishing to ${topic} failed: ${this.sanitizer.describeError(summary)}`,
      );
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
    const clients = this.clients;
    if (!this.connected || !clients) throw new BusNotConnectedError('subscribe');
    if (this.options.createTopics ?? true) {
      await this.ensureTopics(topics.map((topic) => ({ topic })));
    }
    if (!(options.fromBeginning ?? false)) {
      await pinPlatformaticLatestStart(clients.admin, groupId, topics).catch(() => undefined);
    }
    const subscription = new PlatformaticSubscription(
      clients.kafka,
      clients.connection,
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
        `Cannot start consumer group ${groupId}: ${this.sanitizer.describeError(summarizePlatformaticError(error))}`,
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
   * as the broker's auto-creation would. Concurrent first publishes share one check; if
   * creating fails (not allowed, say) the publish goes on and the broker decides.
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
    const admin = this.clients?.admin;
    if (!this.connected || !admin) throw new BusNotConnectedError('create topics');
    const wanted = topics.filter(({ topic }) => !this.knownTopics.has(topic));
    if (wanted.length === 0) return [];
    const created = await ensurePlatformaticTopics(
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
    const clients = this.clients;
    this.clients = undefined;
    if (!clients) return;
    await Promise.allSettled([clients.producer.close(), clients.admin.close()]);
    for (const off of clients.detach) off();
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

  /** Loads the client and maps the options; a failure here needs a configuration change. */
  private async prepare(): Promise<{
    kafka: PlatformaticKafkaModule;
    connection: PlatformaticConnection;
  }> {
    try {
      const kafka = await loadPlatformaticKafka();
      return { kafka, connection: platformaticConnection(this.options) };
    } catch (error) {
      const failure: BusFailure =
        error instanceof UnsupportedSaslMechanismError
          ? { kind: 'permanent', cause: 'sasl-mechanism', hint: error.message }
          : {
              kind: 'permanent',
              cause: 'unknown',
              hint:
                error instanceof PlatformaticKafkaUnavailableError
                  ? error.message
                  : 'the Kafka client could not be set up',
            };
      throw this.connectionError(error, failure);
    }
  }

  private connectionError(error: unknown, failure: BusFailure): BusConnectionError {
    const summary =
      error instanceof PlatformaticKafkaUnavailableError ||
      error instanceof UnsupportedSaslMechanismError
        ? error
        : summarizePlatformaticError(error);
    this.errors.crashed(summary);
    const failed = new BusConnectionError(
      `Cannot connect to Kafka at ${this.brokers().join(',')}: ${this.sanitizer.describeError(summary)}`,
    );
    failed.failure = failure;
    return failed;
  }

  private brokers(): string[] {
    return this.options.brokers.map((broker) => this.sanitizer.sanitize(broker));
  }
}
