import { KafkaEventBus } from '../../../src/intelligence/bus/kafka-event-bus.js';
import { describeBusContract } from '../../support/bus-contract.js';
import { testKafkaBus } from '../../support/kafka-env.js';
import { uniqueTopic } from '../../support/unique-names.js';

describeBusContract('KafkaEventBus (real broker)', {
  createBus: () => testKafkaBus(),
  createTopic: async (bus) => {
    const topic = uniqueTopic();
    await (bus as KafkaEventBus).ensureTopics([{ topic, numPartitions: 3 }]);
    return topic;
  },
  partitions: 3,
  maxMessageBytes: 1_048_576,
  quietMs: 1_500,
  unreachableBus: () =>
    testKafkaBus({ brokers: ['127.0.0.1:1'], connectionTimeoutMs: 300, connectRetries: 1 }),
});
