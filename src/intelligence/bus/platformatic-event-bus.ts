import type { Admin } from '@platformatic/kafka';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import type { BusFailure } from './bus-failure.js';
import { BusNotConnectedError, type BusConnectionError } from './bus.errors.js';
import { KafkaBusBase } from './kafka-bus-base.js';
import type { KafkaBusOptions } from './kafka-bus.options.js';
import type { KafkaClientSession } from './kafka-bus-state.js';
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
  describePlatformaticPartitions,
  ensurePlatformaticTopics,
  pinPlatformaticLatestStart,
} from './platformatic-topic-admin.js';
import { PlatformaticTopicReader } from './platformatic-topic-reader.js';
import type { TopicReader } from './topic-reader.js';

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
 * at-least-once commits, structured sanitized logs. It behaves as `KafkaEventBus` does (what
 * they do alike is in `KafkaBusBase` and `KafkaBusState`); see `PlatformaticSubscription` for the consumer and
 * `registerBeforeJoin` for the rebalance drain.
 */
export class PlatformaticKafkaEventBus extends KafkaBusBase<PlatformaticSubscription> {
  constructor(
    private readonly options: PlatformaticEventBusOptions,
    private readonly sanitizer: LogSanitizer = new LogSanitizer(),
  ) {
    super(options, sanitizer, { summarize: summarizePlatformaticError, isTooLarge });
  }

  async connect(): Promise<void> {
    if (this.state.isConnected) return;
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
      throw this.connectionError(error, classifyPlatformaticFailure(error, this.state.security));
    }
    this.state.opened(this.session({ kafka, connection, producer, admin, detach }));
  }

  /** A reader on clients of its own (see `PlatformaticTopicReader`). */
  override async openReader(): Promise<TopicReader> {
    if (!this.state.isConnected) throw new BusNotConnectedError('open a topic reader');
    const { kafka, connection } = await this.prepare();
    const retries = this.options.consumerRetries ?? 5;
    return new PlatformaticTopicReader(kafka, connection, retries, this.sanitizer);
  }

  private session(clients: Clients): KafkaClientSession<PlatformaticSubscription> {
    const { kafka, connection, producer, admin, detach } = clients;
    return {
      send: (topic, messages) =>
        sendBatch(producer, topic, messages, this.options.idempotent ?? true),
      createTopics: (topics) => ensurePlatformaticTopics(admin, topics),
      pinLatestStart: (groupId, topics) => pinPlatformaticLatestStart(admin, groupId, topics),
      describePartitions: (topics) => describePlatformaticPartitions(admin, topics),
      member: (groupId, topics, handler, options, settings) =>
        new PlatformaticSubscription(
          kafka,
          connection,
          groupId,
          topics,
          handler,
          options,
          settings,
          this.sanitizer,
        ),
      close: async () => {
        await Promise.allSettled([producer.close(), admin.close()]);
        for (const off of detach) off();
      },
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
    return this.state.connectFailed(summary, failure);
  }
}
