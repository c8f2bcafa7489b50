// Part b of the dispatch benchmark: consume + dispatch throughput on a real broker. The bus side
// is KafkaEventBus + MessageDelivery + DispatchEngine, subscribed the way IntelligenceRuntime
// subscribes; the baseline is a plain kafkajs eachBatch consumer calling the same handler.
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { KafkaEventBus, LogSanitizer } from '../../dist/intelligence/index.js';
import { startBroker } from '../../scripts/kafka/broker.mjs';
import { startEachBatchConsumer } from './kafka-baseline.mjs';
import {
  formatMs,
  formatRate,
  formatRatio,
  median,
  perSecond,
  pairedSummaryTable,
  withTimeout,
} from './bench-stats.mjs';
import {
  benchConfig,
  chunk,
  createCounter,
  createDispatch,
  expectCleanRun,
  exposeGc,
  makeEnvelopes,
} from './dispatch-fixtures.mjs';

const PARTITIONS = 3;
const PRELOAD_BATCH = 1_000;
const WARMUP_MESSAGES = 2_000;
const PHASE_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 15_000;
/** Consumer settings of both sides (the bus's defaults except the fetch wait). */
export const CONSUMER = {
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  commitIntervalMs: 1_000,
  fetchMaxWaitMs: 200,
  partitionsConsumedConcurrently: PARTITIONS,
};
/** Topic the envelopes are made for; every bench topic is onex.evt.*, so the category agrees. */
const ENVELOPE_TOPIC = 'onex.evt.dispatch-bench.consume-requested.v1';
const runId = `${Date.now().toString(36)}-${process.pid}`;
let topicSeq = 0;
/** Milliseconds this process spent in GC pauses so far (both sides run in this process). */
let gcMs = 0;
const fullGc = exposeGc();
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
});

/** Runs `work` as one bounded phase: aborts the benchmark if it takes over 60 s. */
export function phase(label, work) {
  return withTimeout(work(), PHASE_TIMEOUT_MS, label);
}

/** The brokers of KAFKA_BROKERS, or a single-node broker started here (cleanup stops it). */
export async function acquireBroker() {
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
    pid: broker.pid,
    cleanup: () => broker.cleanup(),
  };
}

/** Stops the broker we started on Ctrl-C too: it runs detached and would outlive us. */
export function cleanupOnSignals(cleanup) {
  const onSignal = (signal) => {
    console.error(`\n${signal}: stopping the broker`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/**
 * A plain kafkajs client with a connected admin and idempotent producer (preloads, checks,
 * baselines), next to the library `bus`, connected too.
 */
export async function connectPlainClients(brokers, clientId, bus) {
  const kafka = new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({
    idempotent: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await Promise.all([admin.connect(), producer.connect(), bus.connect()]);
  return { kafka, admin, producer, bus };
}

async function openClients(brokers, messages) {
  const config = benchConfig({ kind: 'kafka', brokers, ...CONSUMER });
  const bus = new KafkaEventBus(
    { clientId: 'dispatch-bench-bus', brokers, ...CONSUMER },
    new LogSanitizer(config.logging),
  );
  return {
    ...(await connectPlainClients(brokers, 'dispatch-bench-baseline', bus)),
    config,
    envelopes: makeEnvelopes(ENVELOPE_TOPIC, messages),
  };
}

/** Closes what `connectPlainClients` opened, bounded. */
export async function closeClients({ admin, producer, bus }) {
  const closing = Promise.allSettled([bus.disconnect(), producer.disconnect(), admin.disconnect()]);
  await withTimeout(closing, CLOSE_TIMEOUT_MS, 'disconnect').catch((error) => {
    console.error(String(error));
  });
}

/** A platform-form topic name (onex.evt.<producer>.<name>.v1), new for each measurement. */
function topicName(name) {
  topicSeq += 1;
  return `onex.evt.dispatch-bench.${name}-${runId}-${topicSeq}.v1`;
}

/** A fresh 3-partition topic holding `envelopes`, produced in batches of 1000 (acks=-1). */
async function preloadedTopic(clients, name, envelopes) {
  const topic = topicName(name);
  await clients.admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS }],
    waitForLeaders: true,
  });
  for (const messages of chunk(envelopes, PRELOAD_BATCH)) {
    await clients.producer.send({ topic, acks: -1, messages });
  }
  const offsets = await clients.admin.fetchTopicOffsets(topic);
  const held = offsets.reduce((sum, { low, high }) => sum + Number(high) - Number(low), 0);
  if (held !== envelopes.length) {
    throw new Error(`${topic} holds ${held} messages, expected ${envelopes.length}`);
  }
  return topic;
}

/** Plain kafkajs: eachBatch, JSON.parse(value), the handler, resolveOffset; commit per batch. */
async function consumeBaseline(clients, topic, counter) {
  const consumer = await startEachBatchConsumer(clients.kafka, {
    topic,
    groupId: `${topic}-baseline`,
    settings: CONSUMER,
    onMessage: (message) => counter.handle(JSON.parse(String(message.value)).payload),
  });
  return { close: () => consumer.disconnect(), check: () => {} };
}

/** The module's path: KafkaEventBus subscription → MessageDelivery.deliver → DispatchEngine. */
async function consumeBus(clients, topic, counter, expected) {
  const { bus, config } = clients;
  const dispatch = createDispatch(topic, counter.handle, bus, config);
  const subscription = await bus.subscribe(
    [topic],
    `${topic}-bus`,
    (message) => dispatch.delivery.deliver(message),
    {
      redelivery: config.dispatch.backoff,
      concurrency: config.dispatch.concurrency,
      fromBeginning: true,
    },
  );
  return {
    close: () => subscription.close(),
    check: () => expectCleanRun(`bus consume of ${topic}`, dispatch, counter, expected),
  };
}

const SIDES = [
  { name: 'baseline', consume: consumeBaseline },
  { name: 'bus', consume: consumeBus },
];

/** Subscribes from the beginning and waits until every message was handled once. */
async function consumeAll(clients, side, topic, expected) {
  const counter = createCounter(expected);
  // Each side starts on a collected heap: no paying for the garbage of the one before.
  fullGc();
  // Lets the observer take that GC's entry before counting starts.
  await new Promise((resolve) => setTimeout(resolve, 10));
  const started = performance.now();
  const gcBefore = gcMs;
  const consumer = await side.consume(clients, topic, counter, expected);
  let gc;
  try {
    await counter.done;
    gc = gcMs - gcBefore;
  } finally {
    await consumer.close();
  }
  consumer.check();
  if (counter.bad > 0) throw new Error(`${side.name}: ${counter.bad} payloads without a seq`);
  return {
    steady: {
      ms: counter.last - counter.first,
      rate: perSecond(expected, counter.last - counter.first),
    },
    total: { ms: counter.last - started, rate: perSecond(expected, counter.last - started) },
    gc,
  };
}

/** Baseline first in odd rounds, bus first in even ones. */
function sidesInOrder(round) {
  return round % 2 === 1 ? SIDES : [...SIDES].reverse();
}

/**
 * Untimed: runs both sides once and makes the broker create its offsets topic (the first
 * consumer group would otherwise pay for it).
 */
async function warmUp(clients) {
  const envelopes = clients.envelopes.slice(0, WARMUP_MESSAGES);
  for (const side of SIDES) {
    const topic = await phase('warm-up preload', () =>
      preloadedTopic(clients, `warmup-${side.name}`, envelopes),
    );
    await phase(`warm-up consume (${side.name})`, () =>
      consumeAll(clients, side, topic, envelopes.length),
    );
  }
}

async function runRounds(clients, rounds) {
  const results = [];
  for (let round = 1; round <= rounds; round++) {
    const samples = {};
    for (const side of sidesInOrder(round)) {
      const label = `${side.name}, round ${round}`;
      const topic = await phase(`preload (${label})`, () =>
        preloadedTopic(clients, `consume-${side.name}`, clients.envelopes),
      );
      samples[side.name] = await phase(`consume (${label})`, () =>
        consumeAll(clients, side, topic, clients.envelopes.length),
      );
    }
    printRound(round, rounds, sidesInOrder(round)[0].name, samples);
    results.push(samples);
  }
  return results;
}

function printRound(round, rounds, first, { baseline, bus }) {
  console.log(
    `  round ${round}/${rounds} (${first} first): first→last baseline ` +
      `${formatRate(baseline.steady.rate)} msg/s (${formatMs(baseline.steady.ms)}), bus ` +
      `${formatRate(bus.steady.rate)} msg/s (${formatMs(bus.steady.ms)}), ratio ` +
      `${formatRatio(bus.steady.rate / baseline.steady.rate)}; GC pauses baseline ` +
      `${formatMs(baseline.gc)}, bus ${formatMs(bus.gc)}`,
  );
}

function printSummary(results) {
  console.log(`\nSummary of ${results.length} rounds: median msg/s per side; ratio = median of`);
  console.log(
    'the per-round bus / baseline ratios (1.00: the module path is as fast as kafkajs)\n',
  );
  console.log(
    pairedSummaryTable(results, [
      { id: 'steady', label: 'consume + dispatch, first to last message' },
      { id: 'total', label: 'consume + dispatch, incl. connect + group join' },
    ]),
  );
  const gc = (side) => formatMs(median(results.map((samples) => samples[side].gc)));
  console.log(
    `\nMedian GC pause time while consuming: baseline ${gc('baseline')}, bus ${gc('bus')}`,
  );
}

/**
 * Runs part b on `broker.brokers`.
 * @param {{ brokers: string[], origin: string }} broker
 * @param {{ messages: number, rounds: number }} settings
 */
export async function runKafka(broker, { messages, rounds }) {
  console.log('\n=== b) Kafka consume + dispatch vs plain kafkajs eachBatch, same broker ===');
  console.log(`  broker:   ${broker.brokers.join(',')} (${broker.origin})`);
  console.log(`  messages: N=${messages} envelopes per measurement, pre-produced into a fresh`);
  console.log(`            ${PARTITIONS}-partition topic, keyed by correlation id`);
  console.log(
    `  consumer: fetch wait ${CONSUMER.fetchMaxWaitMs} ms, ${CONSUMER.partitionsConsumedConcurrently} ` +
      `partitions concurrently, commit every ${CONSUMER.commitIntervalMs} ms (both sides)`,
  );
  console.log('  baseline: eachBatch, JSON.parse(value), await handler(payload), resolveOffset;');
  console.log('            commitOffsetsIfNecessary per batch');
  console.log(
    '  bus:      KafkaEventBus.subscribe(..., m => delivery.deliver(m)) as wireSteps does',
  );
  console.log(`  rounds:   R=${rounds}, baseline and bus alternating which goes first`);
  const clients = await phase('connect', () => openClients(broker.brokers, messages));
  gcObserver.observe({ entryTypes: ['gc'] });
  try {
    await warmUp(clients);
    printSummary(await runRounds(clients, rounds));
  } finally {
    gcObserver.disconnect();
    await closeClients(clients);
  }
}
