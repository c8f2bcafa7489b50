// Throughput of KafkaEventBus against plain kafkajs (the baseline) on one real broker: batched
// and single-message produce, and consume. Every measurement gets a fresh 3-partition topic;
// baseline and bus alternate, the one going first switching each round.
//
//   npm run bench:bus
//
// Env: KAFKA_BROKERS (use these brokers instead of starting one), BENCH_MESSAGES (20000),
// BENCH_BATCH (100), BENCH_CONCURRENCY (100 single sends in flight), BENCH_ROUNDS (3).
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { KafkaEventBus, LogSanitizer } from '../dist/intelligence/index.js';
import { startBroker } from '../scripts/kafka/broker.mjs';
import { startEachBatchConsumer } from './support/kafka-baseline.mjs';
import {
  formatMs,
  formatRate,
  formatRatio,
  perSecond,
  renderTable,
  withTimeout,
  runBench,
  envInt,
  pairedSummaryTable,
} from './support/bench-stats.mjs';

const MESSAGES = envInt('BENCH_MESSAGES', 20_000);
const BATCH = envInt('BENCH_BATCH', 100);
const IN_FLIGHT = envInt('BENCH_CONCURRENCY', 100);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const PARTITIONS = 3;
const KEYS = 100;
const VALUE_BYTES = 200;
const PRELOAD_BATCH = 1_000;
const WARMUP_MESSAGES = 2_000;
const PHASE_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 15_000;
/** The bus's consumer settings (its defaults, spelled out), mirrored by the baseline consumer. */
const CONSUMER = {
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  commitIntervalMs: 1_000,
  fetchMaxWaitMs: 1_000,
  partitionsConsumedConcurrently: 4,
};
const METRICS = [
  { id: 'produce-batch', label: `produce, ${BATCH} msgs per send (send / publishBatch)` },
  {
    id: 'produce-single',
    label: `produce, 1 msg per send, ${IN_FLIGHT} in flight (send / publish)`,
  },
  { id: 'consume-steady', label: 'consume, first to last message' },
  { id: 'consume-total', label: 'consume, incl. connect + group join' },
];
const runId = `${Date.now().toString(36)}-${process.pid}`;
let topicSeq = 0;

/**
 * @template T
 * @param {readonly T[]} items
 * @param {number} size
 * @returns {T[][]}
 */
function chunk(items, size) {
  const chunks = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** ~200-byte JSON values, keys cycling over 100 keys, one header; shared by baseline and bus. */
function makeMessages(count) {
  return Array.from({ length: count }, (_, i) => {
    const body = { id: i, type: 'bench.event', source: 'kafka-bus-bench', payload: '' };
    body.payload = 'x'.repeat(Math.max(0, VALUE_BYTES - JSON.stringify(body).length));
    return {
      key: `key-${i % KEYS}`,
      value: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    };
  });
}

/** Runs `work` as one bounded phase of the benchmark. */
function phase(label, work) {
  return withTimeout(work(), PHASE_TIMEOUT_MS, label);
}

// --- broker and clients ---------------------------------------------------------------------

async function acquireBroker() {
  const external = process.env.KAFKA_BROKERS;
  if (external) {
    return { brokers: external.split(','), origin: 'from KAFKA_BROKERS', cleanup: async () => {} };
  }
  const started = performance.now();
  const broker = await startBroker({ readyTimeoutMs: PHASE_TIMEOUT_MS });
  const ready = formatMs(performance.now() - started);
  return {
    brokers: broker.brokers,
    origin: `single-node KRaft broker started by the bench, pid ${broker.pid}, ready in ${ready}`,
    cleanup: () => broker.cleanup(),
  };
}

/** Stops the broker we started on Ctrl-C too: it runs detached and would outlive us. */
function cleanupOnSignals(cleanup) {
  const onSignal = (signal) => {
    console.error(`\n${signal}: stopping the broker`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** The baseline's plain kafkajs client, admin and producer, and the bus, all connected. */
async function openClients(brokers) {
  const kafka = new Kafka({ clientId: 'bench-baseline', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({
    idempotent: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const bus = new KafkaEventBus(
    { clientId: 'bench-bus', brokers, ...CONSUMER },
    new LogSanitizer(),
  );
  const clients = { kafka, admin, producer, bus, messages: makeMessages(MESSAGES) };
  await Promise.all([admin.connect(), producer.connect(), bus.connect()]);
  return clients;
}

async function closeClients({ admin, producer, bus }) {
  const closing = Promise.allSettled([bus.disconnect(), producer.disconnect(), admin.disconnect()]);
  await withTimeout(closing, CLOSE_TIMEOUT_MS, 'disconnect').catch((error) => {
    console.error(String(error));
  });
}

async function createTopic(clients, name) {
  topicSeq += 1;
  const topic = `bench-${runId}-${name}-${topicSeq}`;
  await clients.admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS }],
    waitForLeaders: true,
  });
  return topic;
}

/** Fails unless `topic` holds exactly `expected` messages (all sends landed, none twice). */
async function expectMessageCount(clients, topic, expected) {
  const offsets = await clients.admin.fetchTopicOffsets(topic);
  const count = offsets.reduce((sum, { low, high }) => sum + Number(high) - Number(low), 0);
  if (count !== expected) throw new Error(`${topic} holds ${count} messages, expected ${expected}`);
}

// --- the two sides: the same operations on plain kafkajs and on the bus -----------------------

function createSides(clients) {
  const { kafka, producer, bus } = clients;
  const baseline = {
    name: 'baseline',
    publishBatch: (topic, messages) => producer.send({ topic, acks: -1, messages }),
    publish: (topic, message) => producer.send({ topic, acks: -1, messages: [message] }),
    consume: async (topic, groupId, handler) => {
      const consumer = await startEachBatchConsumer(kafka, {
        topic,
        groupId,
        settings: CONSUMER,
        onMessage: handler,
      });
      return () => consumer.disconnect();
    },
  };
  const busSide = {
    name: 'bus',
    publishBatch: (topic, messages) => bus.publishBatch(topic, messages),
    publish: (topic, message) => bus.publish(topic, message),
    consume: async (topic, groupId, handler) => {
      const subscription = await bus.subscribe([topic], groupId, handler, { fromBeginning: true });
      return () => subscription.close();
    },
  };
  return [baseline, busSide];
}

// --- measurements -----------------------------------------------------------------------------

/** @returns {{ ms: number, rate: number }} */
function sample(count, ms) {
  return { ms, rate: perSecond(count, ms) };
}

/** Sends the chunks one after the other; returns the elapsed ms. */
async function timeChunks(chunks, sendChunk) {
  const started = performance.now();
  for (const messages of chunks) await sendChunk(messages);
  return performance.now() - started;
}

async function measureBatchProduce(clients, side) {
  const topic = await createTopic(clients, `produce-batch-${side.name}`);
  const chunks = chunk(clients.messages, BATCH);
  const ms = await timeChunks(chunks, (messages) => side.publishBatch(topic, messages));
  await expectMessageCount(clients, topic, MESSAGES);
  return { 'produce-batch': sample(MESSAGES, ms) };
}

async function measureSingleProduce(clients, side) {
  const topic = await createTopic(clients, `produce-single-${side.name}`);
  const chunks = chunk(clients.messages, IN_FLIGHT);
  const ms = await timeChunks(chunks, (messages) =>
    Promise.all(messages.map((message) => side.publish(topic, message))),
  );
  await expectMessageCount(clients, topic, MESSAGES);
  return { 'produce-single': sample(MESSAGES, ms) };
}

/**
 * The handler of both sides: trivial and async, it counts messages and their bytes and notes
 * when the first and the last of `expected` messages came.
 */
function createCounter(expected) {
  /** @type {(value?: unknown) => void} */
  let resolveDone = () => {};
  const counter = {
    count: 0,
    bytes: 0,
    first: 0,
    last: 0,
    done: new Promise((resolve) => {
      resolveDone = resolve;
    }),
    handle: async (message) => {
      if (counter.count === 0) counter.first = performance.now();
      counter.count += 1;
      counter.bytes += message.value?.length ?? 0;
      if (counter.count === expected) {
        counter.last = performance.now();
        resolveDone();
      }
    },
  };
  return counter;
}

async function preload(clients, topic) {
  for (const messages of chunk(clients.messages, PRELOAD_BATCH)) {
    await clients.producer.send({ topic, acks: -1, messages });
  }
}

/** Subscribes from the beginning of `topic` and waits until `expected` messages were handled. */
async function consumeAll(side, topic, expected) {
  const counter = createCounter(expected);
  const started = performance.now();
  const close = await side.consume(topic, `${topic}-${side.name}`, counter.handle);
  try {
    await counter.done;
  } finally {
    await close();
  }
  return { started, first: counter.first, last: counter.last };
}

async function measureConsume(clients, side) {
  const topic = await createTopic(clients, `consume-${side.name}`);
  await preload(clients, topic);
  const { started, first, last } = await consumeAll(side, topic, MESSAGES);
  return {
    'consume-steady': sample(MESSAGES, last - first),
    'consume-total': sample(MESSAGES, last - started),
  };
}

const MEASUREMENTS = [
  { name: 'produce batches', measure: measureBatchProduce },
  { name: 'produce single messages', measure: measureSingleProduce },
  { name: 'consume', measure: measureConsume },
];

// --- rounds and reporting ---------------------------------------------------------------------

/**
 * Untimed: runs every code path of both sides once before round 1, and makes the broker create
 * its offsets topic (the first consumer group would otherwise pay for it).
 */
async function warmUp(clients, sides) {
  const messages = clients.messages.slice(0, WARMUP_MESSAGES);
  const topic = await createTopic(clients, 'warmup');
  for (const side of sides) {
    for (const batch of chunk(messages, BATCH)) await side.publishBatch(topic, batch);
    for (const window of chunk(messages, IN_FLIGHT)) {
      await Promise.all(window.map((message) => side.publish(topic, message)));
    }
  }
  const produced = 2 * sides.length * messages.length;
  for (const side of sides) await consumeAll(side, topic, produced);
}

/** Baseline first in odd rounds, bus first in even ones. */
function sidesInOrder(sides, round) {
  return round % 2 === 1 ? sides : [...sides].reverse();
}

/** @returns {Promise<Record<string, Record<string, { ms: number, rate: number }>>>} by side */
async function runRound(clients, sides, round) {
  const samples = Object.fromEntries(sides.map((side) => [side.name, {}]));
  for (const { name, measure } of MEASUREMENTS) {
    for (const side of sidesInOrder(sides, round)) {
      const label = `${name} (${side.name}, round ${round})`;
      Object.assign(samples[side.name], await phase(label, () => measure(clients, side)));
    }
  }
  return samples;
}

function printRound(round, first, samples) {
  console.log(`\nRound ${round}/${ROUNDS} (${first} first)`);
  const rows = METRICS.map(({ id, label }) => {
    const baseline = samples.baseline[id];
    const bus = samples.bus[id];
    return [
      label,
      formatRate(baseline.rate),
      formatMs(baseline.ms),
      formatRate(bus.rate),
      formatMs(bus.ms),
      formatRatio(bus.rate / baseline.rate),
    ];
  });
  const headers = ['measurement', 'baseline msg/s', 'time', 'bus msg/s', 'time', 'bus/baseline'];
  console.log(renderTable(headers, rows, ['left', 'right', 'right', 'right', 'right', 'right']));
}

/**
 * Ratios are paired: bus / baseline of the same round (same broker state, same neighbours on the
 * machine), then the median of those; the rates are medians of their own.
 */
function printSummary(rounds) {
  console.log(`\nSummary of ${rounds.length} rounds: median msg/s per side; ratio = median of`);
  console.log('the per-round bus / baseline ratios (>= 1.00: the bus is as fast as kafkajs)\n');
  console.log(pairedSummaryTable(rounds, METRICS));
}

function printHeader(broker) {
  console.log('KafkaEventBus vs plain kafkajs throughput');
  console.log(`  broker:     ${broker.brokers.join(',')} (${broker.origin})`);
  console.log(`  messages:   N=${MESSAGES} per measurement, ~${VALUE_BYTES} B JSON, ${KEYS} keys`);
  console.log(`  produce:    batches of B=${BATCH}; single sends ${IN_FLIGHT} in flight; acks=-1`);
  console.log(`  topics:     fresh, ${PARTITIONS} partitions per measurement`);
  console.log(
    `  consumer:   commit every ${CONSUMER.commitIntervalMs} ms, fetch wait ` +
      `${CONSUMER.fetchMaxWaitMs} ms, ${CONSUMER.partitionsConsumedConcurrently} partitions ` +
      'concurrently (both sides)',
  );
  console.log(`  rounds:     R=${ROUNDS}, baseline and bus alternating`);
  console.log(`  node:       ${process.version}, ${availableParallelism()} CPUs`);
}

async function runBenchmark(brokers) {
  const clients = await phase('connect', () => openClients(brokers));
  try {
    const sides = createSides(clients);
    await phase('warm-up', () => warmUp(clients, sides));
    const rounds = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const samples = await runRound(clients, sides, round);
      printRound(round, sidesInOrder(sides, round)[0].name, samples);
      rounds.push(samples);
    }
    printSummary(rounds);
  } finally {
    await closeClients(clients);
  }
}

async function main() {
  // The bus logs kafkajs through Nest's Logger: errors only.
  Logger.overrideLogger(['error']);
  const started = performance.now();
  const broker = await acquireBroker();
  cleanupOnSignals(broker.cleanup);
  try {
    printHeader(broker);
    await runBenchmark(broker.brokers);
  } finally {
    await broker.cleanup();
  }
  console.log(`\nTotal run time ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await runBench(main);
