import { testKafkaBus } from '../../support/kafka-env.js';
import { describePartitionWork } from '../../support/partition-work.js';

describePartitionWork('KafkaEventBus', { createBus: (options) => testKafkaBus(options) });
