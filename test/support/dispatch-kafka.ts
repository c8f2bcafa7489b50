import { Kafka, logLevel, type Consumer, type Message, type Producer } from 'kafkajs';
import { createEnvelope, toOutgoing, type Envelope } from '../../src/intelligence/wire/envelope.js';
import { kafkaBrokers } from './kafka-env.js';
import { uniqueGroup, uniqueTopic } from './unique-names.js';
import { waitFor } from './wait-for.js';

/** A message exactly as it sits in Kafka: raw value bytes, headers as strings. */
export interface RawMessage {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Where a produced message landed. */
export interface Placed {
  partition: number;
  offset: string;
}

/** A plain kafkajs client, independent of the library under test. */
function plainKafka(clientId: string): Kafka {
  return new Kafka({ clientId, brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
}

/** Creates the topics (3 partitions unless told) if they do not exist yet. */
export async function createTopics(topics: string[], numPartitions = 3): Promise<void> {
  const admin = plainKafka('dispatch-admin').admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Commits offset 0 on every partition for a group that has no members yet, so it starts at the
 * beginning of a fresh topic whatever the module does for a group with no committed offset, and
 * no message produced around the group join is missed.
 * (What `admin.setOffsets` does, without its 5 s fetch wait.)
 */
export async function startGroupAtBeginning(groupId: string, topic: string, partitions = 3) {
  const consumer = plainKafka('dispatch-offsets').consumer({ groupId, maxWaitTimeInMs: 50 });
  const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachBatchAutoResolve: false, eachBatch: () => Promise.resolve() });
    await joined;
    consumer.pause([{ topic }]);
    for (let partition = 0; partition < partitions; partition++) {
      consumer.seek({ topic, partition, offset: '0' });
    }
    await waitFor(
      async () => {
        const committed = await committedOffsets(groupId, topic);
        return committed.length === partitions && committed.every((offset) => offset === '0');
      },
      `group ${groupId} set to the beginning of ${topic}`,
      10_000,
      100,
    );
  } finally {
    await consumer.disconnect();
  }
}

/** The group's committed offset of each partition of `topic` ('-1' when none). */
export async function committedOffsets(groupId: string, topic: string): Promise<string[]> {
  const admin = plainKafka('dispatch-admin').admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? [])
      .sort((a, b) => a.partition - b.partition)
      .map(({ offset }) => offset);
  } finally {
    await admin.disconnect();
  }
}

/** A platform envelope on `topic` with `payload`, as the kafkajs message the platform sends. */
export function envelopeMessage<T>(
  topic: string,
  payload: T,
  key?: string,
): { envelope: Envelope<T>; message: Message } {
  const envelope = createEnvelope({ topic, payload });
  const { value, headers } = toOutgoing(envelope);
  return { envelope, message: { key: key ?? envelope.correlation_id, value, headers } };
}

/** A plain kafkajs producer (acks=all) that tells where each message landed. */
export class TestProducer {
  private producer: Producer | undefined;

  async start(): Promise<this> {
    this.producer = plainKafka('dispatch-producer').producer({ allowAutoTopicCreation: false });
    await this.producer.connect();
    return this;
  }

  /** Sends `messages` in one request; all of them must land in one partition. */
  async sendToOnePartition(topic: string, messages: Message[]): Promise<Placed[]> {
    const [record, ...others] = await this.send(topic, messages);
    if (!record || others.length > 0) throw new Error('messages landed in several partitions');
    const base = BigInt(record.baseOffset ?? '-1');
    return messages.map((_, index) => ({
      partition: record.partition,
      offset: String(base + BigInt(index)),
    }));
  }

  async send(topic: string, messages: Message[]) {
    if (!this.producer) throw new Error('TestProducer not started');
    return this.producer.send({ topic, acks: -1, messages });
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect();
  }
}

/** A separate plain-kafkajs consumer reading topics from the beginning, keeping the raw bytes. */
export class RawTopicReader {
  readonly messages: RawMessage[] = [];
  private consumer: Consumer | undefined;

  async start(topics: string[]): Promise<this> {
    await createTopics(topics);
    this.consumer = plainKafka('dispatch-reader').consumer({
      groupId: uniqueGroup('raw-reader'),
      maxWaitTimeInMs: 100,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          if (value !== undefined) headers[name] = String(value);
        }
        this.messages.push({
          topic,
          partition,
          offset: message.offset,
          timestamp: message.timestamp,
          key: message.key?.toString() ?? null,
          value: message.value,
          headers,
        });
        return Promise.resolve();
      },
    });
    return this;
  }

  /** Messages of `topic` (a dead-letter topic is shared: filter with `deadLettersOf`). */
  of(topic: string): RawMessage[] {
    return this.messages.filter((message) => message.topic === topic);
  }

  /** Dead letters on `deadLetterTopic` whose `original_topic` is `originalTopic`. */
  deadLettersOf(deadLetterTopic: string, originalTopic: string): RawMessage[] {
    return this.of(deadLetterTopic).filter(
      (message) => message.headers.original_topic === originalTopic,
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

/**
 * A fresh topic (3 partitions) and a group id; with `committed`, the group already has
 * offset 0 committed on every partition (it starts at the beginning whatever `startFrom`).
 */
export async function freshTopic(
  name: string,
  { committed = true } = {},
): Promise<{ topic: string; groupId: string }> {
  const topic = uniqueTopic(name);
  const groupId = uniqueGroup(name);
  await createTopics([topic]);
  if (committed) await startGroupAtBeginning(groupId, topic);
  return { topic, groupId };
}
