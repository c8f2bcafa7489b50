import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import type { EventBus } from '../../../src/intelligence/bus/event-bus.js';
import type { KafkaEventBus } from '../../../src/intelligence/bus/kafka-event-bus.js';
import { kafkaBrokers, testKafkaBus, testPlatformaticBus } from '../../support/kafka-env.js';
import { describeTopicReaderContract, readAll } from '../../support/topic-reader-contract.js';
import { uniqueTopic } from '../../support/unique-names.js';

const createTopic = async (bus: EventBus) => {
  const topic = uniqueTopic('reader');
  await (bus as KafkaEventBus).ensureTopics([{ topic, numPartitions: 3 }]);
  return topic;
};

/** Consumer groups on the broker whose id starts with `prefix`. */
async function groupsStartingWith(prefix: string): Promise<string[]> {
  const admin = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    return groups.map(({ groupId }) => groupId).filter((id) => id.startsWith(prefix));
  } finally {
    await admin.disconnect();
  }
}

describeTopicReaderContract('KafkaEventBus (real broker)', {
  createBus: () => testKafkaBus(),
  createTopic,
  partitions: 3,
});

describeTopicReaderContract('PlatformaticKafkaEventBus (real broker)', {
  createBus: () => testPlatformaticBus(),
  createTopic,
  partitions: 3,
});

describe.each([
  ['kafkajs', testKafkaBus],
  ['platformatic', testPlatformaticBus],
] as const)('TopicReader on %s', (_client, createBus) => {
  it('leaves no consumer group behind', async () => {
    const clientId = `reader-${randomUUID().slice(0, 8)}`;
    const bus = createBus({ clientId });
    await bus.connect();
    const reader = await bus.openReader();
    try {
      const topic = await createTopic(bus);
      await bus.publishBatch(topic, [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ]);
      await expect(readAll(reader, topic)).resolves.toHaveLength(2);
      await expect(groupsStartingWith(`${clientId}-reader-`)).resolves.toEqual([]);
    } finally {
      await reader.close();
      await bus.disconnect();
    }
  });
});
