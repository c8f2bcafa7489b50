import {
  CompressionTypes,
  Kafka,
  type Admin,
  type Message,
  type Producer,
  type RetryOptions,
} from 'kafkajs';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import type { OutgoingMessage } from './bus-message.interface.js';
import { pinningPartitioner, sendAcknowledged } from './kafka-acknowledged-send.js';
import { BusNotConnectedError } from './bus.errors.js';
import { KafkaBusBase } from './kafka-bus-base.js';
import { RenewingProducer } from './kafka-renewing-producer.js';
import type { KafkaBusOptions } from './kafka-bus.options.js';
import type { KafkaClientSession } from './kafka-bus-state.js';
import { kafkaLogCreator } from './kafka-log-creator.js';
import { classifyKafkaFailure } from './kafka-failure-classifier.js';
import { KafkaSubscription } from './kafka-subscription.js';
import { describePartitions, ensureTopics, pinLatestStart } from './kafka-topic-admin.js';
import { KafkaTopicReader } from './kafka-topic-reader.js';
import type { TopicReader } from './topic-reader.js';

type KafkaEventBusOptions = Omit<KafkaBusOptions, 'kind'> & { clientId: string };

/**
 * The event bus on Apache Kafka (kafkajs): an idempotent acks=all producer, one kafkajs
 * consumer per subscription with at-least-once commits, structured sanitized logs. What it
 * does alike with `PlatformaticKafkaEventBus` is in `KafkaBusBase` and `KafkaBusState`.
 */
export class KafkaEventBus extends KafkaBusBase<KafkaSubscription> {
  private readonly kafka: Kafka;

  constructor(
    private readonly options: KafkaEventBusOptions,
    private readonly sanitizer: LogSanitizer = new LogSanitizer(),
  ) {
    super(options, sanitizer, { summarize: (error) => error, isTooLarge });
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
    if (this.state.isConnected) return;
    const producer = this.newProducer();
    const admin = this.kafka.admin();
    try {
      await producer.connect();
      await admin.connect();
    } catch (error) {
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
      throw this.state.connectFailed(error, classifyKafkaFailure(error, this.state.security));
    }
    const producers = new RenewingProducer(
      producer,
      () => this.newProducer(),
      this.options.idempotent ?? true,
    );
    this.state.opened(this.session(producers, admin));
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: this.options.idempotent ?? true,
      createPartitioner: pinningPartitioner,
      // 0.3 s doubling to 5 s: the default 5 retries span ~9 s, long enough for a partition
      // leader that died to be replaced (kafkajs refreshes the metadata between them).
      retry: {
        retries: this.options.publishRetries ?? 5,
        initialRetryTime: 300,
        maxRetryTime: 5_000,
      },
    });
  }

  /** A reader on clients of its own (see `KafkaTopicReader`). */
  override openReader(): Promise<TopicReader> {
    if (!this.state.isConnected) {
      return Promise.reject(new BusNotConnectedError('open a topic reader'));
    }
    return Promise.resolve(new KafkaTopicReader(this.kafka, this.options.clientId, this.sanitizer));
  }

  private session(
    producers: RenewingProducer,
    admin: Admin,
  ): KafkaClientSession<KafkaSubscription> {
    return {
      send: (topic, messages) =>
        producers.run(
          (producer) =>
            sendAcknowledged(messages.map(toKafkaMessage), (pending) =>
              producer.send({
                topic,
                acks: -1,
                compression:
                  this.options.compression === 'gzip'
                    ? CompressionTypes.GZIP
                    : CompressionTypes.None,
                messages: pending,
              }),
            ),
          isTooLarge,
        ),
      createTopics: (topics) => ensureTopics(admin, topics),
      pinLatestStart: (groupId, topics) => pinLatestStart(this.kafka, admin, groupId, topics),
      describePartitions: (topics) => describePartitions(admin, topics),
      member: (groupId, topics, handler, options, settings) =>
        new KafkaSubscription(
          this.kafka,
          groupId,
          topics,
          handler,
          options,
          {
            ...settings,
            partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
          },
          this.sanitizer,
        ),
      close: async () => {
        await Promise.allSettled([producers.close(), admin.disconnect()]);
      },
    };
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
