import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { kafkaBrokers } from './kafka-env.js';
import { uniqueGroup } from './unique-names.js';

export interface ReadMessage {
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  envelope: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/**
 * A separate plain-kafkajs consumer that reads topics from the beginning and decodes the
 * envelopes, so tests check what really reached Kafka.
 */
export class KafkaTopicReader {
  readonly messages: ReadMessage[] = [];
  private consumer: Consumer | undefined;

  constructor(private readonly brokers: string[] = kafkaBrokers()) {}

  async start(topics: string[]): Promise<this> {
    const kafka = new Kafka({
      clientId: 'topic-reader',
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: topics.map((topic) => ({ topic })), waitForLeaders: true });
    await admin.disconnect();
    this.consumer = kafka.consumer({ groupId: uniqueGroup('reader'), maxWaitTimeInMs: 100 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: ({ topic, message }) => {
        const envelope = JSON.parse(message.value?.toString() ?? '{}') as Record<string, unknown>;
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          headers[name] = String(value);
        }
        this.messages.push({
          topic,
          key: message.key?.toString() ?? null,
          headers,
          envelope,
          payload: (envelope.payload ?? {}) as Record<string, unknown>,
        });
        return Promise.resolve();
      },
    });
    return this;
  }

  /** Messages of one service (the `service` field of introspection and heartbeat payloads). */
  of(topic: string, service: string): ReadMessage[] {
    return this.messages.filter((m) => m.topic === topic && m.payload.service === service);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
