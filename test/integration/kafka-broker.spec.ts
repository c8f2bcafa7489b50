import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { kafkaBrokers } from '../support/kafka-env.js';
import { uniqueGroup, uniqueTopic } from '../support/unique-names.js';
import { waitFor } from '../support/wait-for.js';

/** Proves plain kafkajs 2.2.4 works against the test broker (Kafka 4.x, KRaft). */
describe('the test broker with plain kafkajs', () => {
  const kafka = new Kafka({
    clientId: 'broker-proof',
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
  });
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin.disconnect();
  });

  it('creates topics, produces, consumes in a group, commits and lists offsets', async () => {
    const topic = uniqueTopic('broker-proof');
    const groupId = uniqueGroup('proof');
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    expect(await admin.listTopics()).toContain(topic);

    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 60 }, (_, i) => ({
        key: `k${String(i % 7)}`,
        value: String(i),
      })),
    });
    await producer.disconnect();

    const seen = new Set<string>();
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        seen.add(message.value?.toString() ?? '');
        await consumer.commitOffsets([
          { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
        ]);
      },
    });
    await waitFor(() => seen.size === 60, 'all 60 messages consumed');
    await consumer.disconnect();

    const highWater = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const byPartition = new Map(committed?.partitions.map((p) => [p.partition, p.offset]));
    expect(highWater).toHaveLength(3);
    for (const { partition, high } of highWater) expect(byPartition.get(partition)).toBe(high);
    expect(highWater.reduce((sum, { high }) => sum + Number(high), 0)).toBe(60);
  });
});
