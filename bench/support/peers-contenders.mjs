// The consume contenders of `npm run bench`. Each `start(job)` subscribes `job.groupId` (fresh)
// to `job.topic` from the beginning and calls `job.handle(payload)` once per message, awaited
// the way that contender awaits its handlers; it returns `close()` and what it ran on.
//   module-*:            IntelligenceModule (KafkaEventBus → MessageDelivery → DispatchEngine →
//                        @IntelligenceHandler), its defaults plus the regime's `dispatch`
//   kafkajs-eachBatch:   bench/support/kafka-baseline.mjs, the bus's consumer settings
//   kafkajs-eachMessage: consumer.run({ eachMessage }), kafkajs defaults, fetch wait 100 ms
//   nest-kafka:          NestFactory.createMicroservice(Transport.KAFKA), an @EventPattern(topic)
//                        controller method, Nest's defaults, fetch wait 100 ms
//   platformatic:        @platformatic/kafka Consumer.consume() stream, for await, autocommit
// Each contender loads its own dependencies (`load()`, before any clock starts), so a run
// pays for no other contender's imports.
import { EACH_BATCH_SETTINGS, PEER_FETCH_MAX_WAIT_MS } from './peers-config.mjs';
import { decodePayload } from './peers-handlers.mjs';

/**
 * @typedef {object} ConsumeJob
 * @property {string} contender
 * @property {string[]} brokers
 * @property {string} topic
 * @property {string} groupId
 * @property {'envelope' | 'bare'} kind
 * @property {object} dispatch the module's `dispatch` option
 * @property {(payload: unknown) => Promise<void>} handle
 *
 * @typedef {(job: ConsumeJob) => Promise<{ close: () => Promise<void>, info: object }>} Start
 */

async function loadKafkajs() {
  const { Kafka, logLevel } = await import('kafkajs');
  return (brokers, clientId) => new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
}

/** Applies a method decorator the way TypeScript's legacy decorators do. */
function decorate(Class, method, decorator) {
  const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, method);
  const result = decorator(Class.prototype, method, descriptor);
  if (result) Object.defineProperty(Class.prototype, method, result);
}

/**
 * @param {'kafkajs' | 'platformatic'} client
 * @returns {() => Promise<Start>}
 */
function moduleContender(client) {
  return async () => {
    const { startModuleApp } = await import('./peers-module-app.mjs');
    return async (job) => {
      const { app, verifyClient } = await startModuleApp({
        client,
        brokers: job.brokers,
        groupId: job.groupId,
        topic: job.topic,
        dispatch: job.dispatch,
        handle: job.handle,
      });
      const bus = await verifyClient();
      return { close: () => app.close(), info: { bus, dispatch: job.dispatch } };
    };
  };
}

/** @returns {Promise<Start>} */
async function eachBatch() {
  const kafka = await loadKafkajs();
  const { startEachBatchConsumer } = await import('./kafka-baseline.mjs');
  return async (job) => {
    const consumer = await startEachBatchConsumer(kafka(job.brokers, 'peers-each-batch'), {
      topic: job.topic,
      groupId: job.groupId,
      settings: EACH_BATCH_SETTINGS,
      onMessage: (message) => job.handle(decodePayload(job.kind, message.value)),
    });
    return { close: () => consumer.disconnect(), info: { settings: EACH_BATCH_SETTINGS } };
  };
}

/** @returns {Promise<Start>} */
async function eachMessage() {
  const kafka = await loadKafkajs();
  return async (job) => {
    const consumer = kafka(job.brokers, 'peers-each-message').consumer({
      groupId: job.groupId,
      maxWaitTimeInMs: PEER_FETCH_MAX_WAIT_MS,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [job.topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => job.handle(decodePayload(job.kind, message.value)),
    });
    return {
      close: () => consumer.disconnect(),
      info: { settings: { fetchMaxWaitMs: PEER_FETCH_MAX_WAIT_MS, others: 'kafkajs defaults' } },
    };
  };
}

/** @returns {Promise<Start>} */
async function nestKafka() {
  await import('reflect-metadata');
  const [{ Controller, Module }, { NestFactory }, { EventPattern, Transport }, { logLevel }] =
    await Promise.all([
      import('@nestjs/common'),
      import('@nestjs/core'),
      import('@nestjs/microservices'),
      import('kafkajs'),
    ]);
  return async (job) => {
    const { kind, handle } = job;
    class PeersBenchController {
      async onEvent(data) {
        await handle(kind === 'envelope' ? data.payload : data);
      }
    }
    Controller()(PeersBenchController);
    decorate(PeersBenchController, 'onEvent', EventPattern(job.topic));
    class PeersBenchNestModule {}
    Module({ controllers: [PeersBenchController] })(PeersBenchNestModule);
    const app = await NestFactory.createMicroservice(PeersBenchNestModule, {
      transport: Transport.KAFKA,
      options: {
        client: { clientId: 'peers-nest', brokers: job.brokers, logLevel: logLevel.NOTHING },
        consumer: { groupId: job.groupId, maxWaitTimeInMs: PEER_FETCH_MAX_WAIT_MS },
        subscribe: { fromBeginning: true },
        postfixId: '',
      },
      logger: false,
      abortOnError: false,
    });
    await app.listen();
    return {
      close: () => app.close(),
      info: {
        settings: { fetchMaxWaitMs: PEER_FETCH_MAX_WAIT_MS, others: 'Nest/kafkajs defaults' },
      },
    };
  };
}

/** @returns {Promise<Start>} */
async function platformatic() {
  const { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, stringDeserializers } =
    await import('@platformatic/kafka');
  return async (job) => {
    const consumer = new Consumer({
      clientId: 'peers-platformatic',
      groupId: job.groupId,
      bootstrapBrokers: job.brokers,
      deserializers: stringDeserializers,
      maxWaitTime: PEER_FETCH_MAX_WAIT_MS,
    });
    const stream = await consumer.consume({
      topics: [job.topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: true,
    });
    /** @type {unknown} */
    let loopError;
    const loop = (async () => {
      for await (const message of stream) {
        await job.handle(decodePayload(job.kind, message.value));
      }
    })().catch((error) => {
      loopError = error;
    });
    return {
      close: async () => {
        await stream.close();
        await loop;
        await consumer.close();
        if (loopError) throw loopError;
      },
      info: { settings: { maxWaitTime: PEER_FETCH_MAX_WAIT_MS, others: 'platformatic defaults' } },
    };
  };
}

/** Per contender id: loads its dependencies, resolves to its `start`. */
/** @type {Record<string, () => Promise<Start>>} */
export const CONSUMERS = {
  'module-kafkajs': moduleContender('kafkajs'),
  'module-platformatic': moduleContender('platformatic'),
  'kafkajs-eachBatch': eachBatch,
  'kafkajs-eachMessage': eachMessage,
  'nest-kafka': nestKafka,
  platformatic,
};
