import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type { BusFailure } from './bus-failure.js';
import type {
  BusHealth,
  MessageHandler,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
  SubscriptionHealth,
} from './bus-message.interface.js';
import {
  BusConnectionError,
  BusMessageTooLargeError,
  BusNotConnectedError,
  BusPublishError,
} from './bus.errors.js';
import { ClusterWatch } from './cluster-watch.js';
import type { KafkaBusOptions } from './kafka-bus.options.js';
import { memberSettings, type KafkaMemberSettings } from './kafka-member-settings.js';
import { ProduceBatcher } from './kafka-produce-batcher.js';
import type { TopicSpec } from './kafka-topic-admin.js';
import { KafkaTopicRegistry } from './kafka-topic-registry.js';
import type { PartitionState } from './partition-watch.js';
import { SubscriptionErrors } from './subscription-errors.js';

/** One consumer-group member of a Kafka bus (`KafkaSubscription`, `PlatformaticSubscription`). */
export interface KafkaBusMember {
  readonly topics: readonly string[];
  /** Joins the group and starts consuming. Rejects if the first start fails. */
  start(): Promise<void>;
  close(): Promise<void>;
  health(): SubscriptionHealth;
}

/** The connected clients of one adapter: the client-specific halves of the bus's operations. */
export interface KafkaClientSession<M extends KafkaBusMember> {
  /** Sends one batch to `topic`, acknowledged by every in-sync replica. */
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /** Creates those of `topics` that do not exist yet; resolves with the ones it created. */
  createTopics(topics: TopicSpec[]): Promise<string[]>;
  /** Pins where a new group starts "from the latest" (see `pinLatestStart`). */
  pinLatestStart(groupId: string, topics: readonly string[]): Promise<void>;
  /** Leader, replicas and ISR of every partition of `topics` (for the `ClusterWatch`). */
  describePartitions(topics: readonly string[]): Promise<PartitionState[]>;
  /** A new member of `groupId`, not started yet. */
  member(
    groupId: string,
    topics: readonly string[],
    handler: MessageHandler,
    options: SubscribeOptions,
    settings: KafkaMemberSettings,
  ): M;
  /** Closes the clients; never rejects. */
  close(): Promise<void>;
}

/** How the errors of one Kafka client read. */
export interface KafkaClientErrors {
  /** What to record and describe for `error` (a client error may be a tree of retries). */
  summarize(error: unknown): unknown;
  /** Whether a send failed because a message or the batch is larger than the broker accepts. */
  isTooLarge(error: unknown): boolean;
}

type BusOptions = Omit<KafkaBusOptions, 'kind'>;

/**
 * What both Kafka adapters keep and do alike, whatever the client: the connection state, the
 * topics known to exist, the members, the produce batching and the bookkeeping of failed
 * publishes, and the health assembled from them. The adapter connects its client and hands
 * the result over as a `KafkaClientSession`.
 */
export class KafkaBusState<M extends KafkaBusMember> {
  private session: KafkaClientSession<M> | undefined;
  private connected = false;
  /** A publish failed and none succeeded since: the client has lost the broker. */
  private publishFailing = false;
  private readonly members = new Set<M>();
  private readonly topics: KafkaTopicRegistry;
  private readonly errors: SubscriptionErrors;
  private readonly batcher: ProduceBatcher;
  private readonly cluster: ClusterWatch;

  /** `publishBatch`: where the batched publishes go (the bus's `publishBatch`). */
  constructor(
    private readonly options: BusOptions,
    private readonly sanitizer: LogSanitizer,
    private readonly clientErrors: KafkaClientErrors,
    publishBatch: (topic: string, messages: OutgoingMessage[]) => Promise<void>,
  ) {
    this.errors = new SubscriptionErrors(sanitizer);
    this.topics = new KafkaTopicRegistry(options);
    this.batcher = new ProduceBatcher(publishBatch);
    this.cluster = new ClusterWatch(
      {
        describe: (topics) => {
          const session = this.session;
          if (!session) return Promise.reject(new BusNotConnectedError('describe partitions'));
          return session.describePartitions(topics);
        },
        otherTrouble: () => this.coordinatorTrouble(),
      },
      sanitizer,
      options.clusterWatchMs,
    );
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Whether the client is configured for SASL and TLS (what a refused connection may mean). */
  get security(): { sasl: boolean; tls: boolean } {
    return {
      sasl: this.options.sasl !== undefined,
      tls: this.options.ssl !== undefined && this.options.ssl !== false,
    };
  }

  /** The client connected: the bus works through `session` until `disconnect()`. */
  opened(session: KafkaClientSession<M>): void {
    this.session = session;
    this.connected = true;
    this.publishFailing = false;
    this.errors.recovered();
    this.cluster.start();
  }

  /** Records a failed connect (`error` as it is to be shown); the error `connect()` throws. */
  connectFailed(error: unknown, failure: BusFailure): BusConnectionError {
    this.errors.crashed(error);
    const failed = new BusConnectionError(
      `Cannot connect to Kafka at ${this.brokers().join(',')}: ${this.sanitizer.describeError(error)}`,
    );
    failed.failure = failure;
    return failed;
  }

  /** Concurrent publishes to one topic share produce requests (see `ProduceBatcher`). */
  publish(topic: string, message: OutgoingMessage): Promise<void> {
    if (!this.connected) return Promise.reject(new BusNotConnectedError('publish'));
    return this.batcher.add(topic, message);
  }

  async publishBatch(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (!this.connected) throw new BusNotConnectedError('publish');
    if (this.topics.needsCheck(topic)) {
      await this.topics.ensureForPublish(topic, (specs) => this.ensureTopics(specs));
    }
    // Read after the await: a disconnect meanwhile takes the clients away.
    const session = this.session;
    if (!session) throw new BusNotConnectedError('publish');
    const sent = this.cluster.publishStarted(topic);
    try {
      await session.send(topic, messages);
    } catch (error) {
      const tooLarge = this.clientErrors.isTooLarge(error);
      const summary = this.clientErrors.summarize(error);
      this.cluster.publishEnded(sent, summary);
      if (!tooLarge) {
        this.publishFailing = true;
        this.errors.crashed(summary);
      }
      const ErrorType = tooLarge ? BusMessageTooLargeError : BusPublishError;
      throw new ErrorType(
        `Publishing to ${topic} failed: ${this.sanitizer.describeError(summary)}`,
      );
    }
    this.cluster.publishEnded(sent);
    this.cluster.watch([topic]);
    if (this.publishFailing) {
      this.publishFailing = false;
      this.errors.recovered();
    }
  }

  async subscribe(
    topics: readonly string[],
    groupId: string,
    handler: MessageHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    const session = this.session;
    if (!this.connected || !session) throw new BusNotConnectedError('subscribe');
    if (this.topics.creates) {
      await this.ensureTopics(topics.map((topic) => ({ topic })));
    }
    // Read after the await: a disconnect meanwhile has closed the admin client.
    const current = this.session;
    if (!(options.fromBeginning ?? false) && current) {
      await current.pinLatestStart(groupId, topics).catch(() => undefined);
    }
    const member = session.member(groupId, topics, handler, options, memberSettings(this.options));
    this.members.add(member);
    try {
      await member.start();
    } catch (error) {
      this.members.delete(member);
      throw new BusConnectionError(
        `Cannot start consumer group ${groupId}: ${this.sanitizer.describeError(this.clientErrors.summarize(error))}`,
      );
    }
    this.cluster.watch(member.topics);
    return {
      groupId,
      topics: member.topics,
      close: async () => {
        await member.close();
        this.members.delete(member);
      },
    };
  }

  /** Creates missing topics (with `defaultPartitions` unless given). Needs a connected bus. */
  async ensureTopics(topics: readonly TopicSpec[]): Promise<string[]> {
    const session = this.session;
    if (!this.connected || !session) throw new BusNotConnectedError('create topics');
    return this.topics.ensure(topics, (specs) => session.createTopics(specs));
  }

  /** Closes every member (committing what was handled), then the clients. */
  async disconnect(): Promise<void> {
    this.connected = false;
    this.cluster.stop();
    await Promise.allSettled([...this.members].map((member) => member.close()));
    this.members.clear();
    const session = this.session;
    this.session = undefined;
    await session?.close();
  }

  /**
   * `connected` follows what the client reports: false once disconnected, while publishes
   * fail, or while every consumer has crashed; true again as soon as they work.
   */
  health(): BusHealth {
    const subscriptions = [...this.members].map((member) => member.health());
    const consumersLost =
      subscriptions.length > 0 && subscriptions.every(({ state }) => state === 'crashed');
    return {
      kind: 'kafka',
      connected: this.connected && !this.publishFailing && !consumersLost,
      brokers: this.brokers(),
      subscriptions,
      ...this.errors.health(),
      cluster: this.cluster.health(),
    };
  }

  /** `coordinator lost <group>` for each member whose coordinator is lost. */
  private coordinatorTrouble(): string[] {
    return [...this.members]
      .map((member) => member.health())
      .filter(({ coordinator }) => coordinator?.state === 'lost')
      .map(({ groupId }) => `coordinator lost ${groupId}`);
  }

  private brokers(): string[] {
    return this.options.brokers.map((broker) => this.sanitizer.sanitize(broker));
  }
}
