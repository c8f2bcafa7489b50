// Proves kafkajs works against the broker: creates a 3-partition topic, produces 100 keyed
// messages, consumes and commits them in a group, then checks the group's committed offsets
// equal the partitions' high watermarks. Uses KAFKA_BROKERS if set, else starts its own broker.
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { startBroker } from './broker.mjs';

const MESSAGES = 100;
const PARTITIONS = 3;
const TIMEOUT_MS = 60_000;

/**
 * @param {string[]} brokers
 * @returns {Promise<string>} timings
 */
async function smoke(brokers) {
  // Failures surface as thrown errors; kafkajs' own log would only add retried transients.
  const kafka = new Kafka({ clientId: 'kafka-smoke', brokers, logLevel: logLevel.NOTHING });
  const topic = `smoke-${Date.now()}-${process.pid}`;
  const groupId = `${topic}-group`;
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  // A short fetch long-poll lets disconnect() return promptly.
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  let mark = Date.now();
  const lap = () => {
    const ms = Date.now() - mark;
    mark = Date.now();
    return `${ms} ms`;
  };

  try {
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS }],
      waitForLeaders: true,
    });
    const created = lap();

    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: MESSAGES }, (_, i) => ({
        key: `key-${i % 10}`,
        value: `${i}`,
      })),
    });
    const produced = lap();

    const received = new Set();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) received.add(String(message.value));
            await consumer.commitOffsets([
              { topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) },
            ]);
            if (received.size === MESSAGES) resolve(undefined);
          },
        })
        .catch(reject);
    });
    const consumed = lap();

    const highWatermarks = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const count = highWatermarks.reduce((sum, p) => sum + Number(p.high), 0);
    for (const { partition, high } of highWatermarks) {
      const offset = committed?.partitions.find((p) => p.partition === partition)?.offset;
      if (offset !== high) {
        throw new Error(
          `partition ${partition}: committed offset ${offset} != high watermark ${high}`,
        );
      }
    }
    if (highWatermarks.length !== PARTITIONS || count !== MESSAGES) {
      throw new Error(`expected ${MESSAGES} messages in ${PARTITIONS} partitions, got ${count}`);
    }
    return `create topic ${created}, produce ${produced}, consume+commit ${consumed}`;
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  }
}

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @returns {Promise<T>}
 */
function withTimeout(promise, ms) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout])).finally(() =>
    clearTimeout(timer),
  );
}

const started = Date.now();
const ownBroker = process.env.KAFKA_BROKERS ? null : await startBroker();
const brokers = ownBroker?.brokers ?? String(process.env.KAFKA_BROKERS).split(',');
const startup = ownBroker ? `broker start ${Date.now() - started} ms, ` : '';
try {
  const timings = await withTimeout(smoke(brokers), TIMEOUT_MS);
  const total = `total ${Date.now() - started} ms`;
  console.log(`PASS kafkajs smoke against ${brokers.join(',')}: ${startup}${timings}, ${total}`);
} catch (err) {
  console.error(`FAIL kafkajs smoke against ${brokers.join(',')}:`, err);
  process.exitCode = 1;
} finally {
  await ownBroker?.cleanup();
}
// After a timeout kafkajs may still hold sockets and timers; don't wait for them.
process.exit();
