import type { KafkaBusOptions } from '../../../src/intelligence/bus/kafka-bus.options.js';
import { PlatformaticKafkaEventBus } from '../../../src/intelligence/bus/platformatic-event-bus.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';
import { describeBusContract } from '../../support/bus-contract.js';
import { kafkaBrokers } from '../../support/kafka-env.js';
import { uniqueTopic } from '../../support/unique-names.js';

/** A @platformatic/kafka bus on the test broker, tuned like `testKafkaBus` for fast joins. */
function testPlatformaticBus(
  options: Partial<Omit<KafkaBusOptions, 'kind'>> = {},
): PlatformaticKafkaEventBus {
  return new PlatformaticKafkaEventBus(
    {
      clientId: 'intelligence-test',
      brokers: kafkaBrokers(),
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 500,
      commitIntervalMs: 200,
      fetchMaxWaitMs: 200,
      ...options,
    },
    new LogSanitizer(),
  );
}

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
