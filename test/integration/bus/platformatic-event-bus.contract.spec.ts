import type { PlatformaticKafkaEventBus } from '../../../src/intelligence/bus/platformatic-event-bus.js';
import { describeBusContract } from '../../support/bus-contract.js';
import { testPlatformaticBus } from '../../support/kafka-env.js';
import { uniqueTopic } from '../../support/unique-names.js';

describeBusContract('PlatformaticKafkaEventBus (real broker)', {
  createBus: () => testPlatformaticBus(),
  createTopic: async (bus) => {
    const topic = uniqueTopic();
    await (bus as PlatformaticKafkaEventBus).ensureTopics([{ topic, numPartitions: 3 }]);
    return topic;
  },
  partitions: 3,
  maxMessageBytes: 1_048_576,
  quietMs: 1_500,
  unreachableBus: () =>
    testPlatformaticBus({ brokers: ['127.0.0.1:1'], connectionTimeoutMs: 300, connectRetries: 1 }),
});
