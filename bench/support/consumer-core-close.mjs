// Part 4 of the consumer-core benchmark: how long closing an idle, running consumer takes.
// KafkaEventBus with its defaults (fetch wait 100 ms): `subscription.close()`, and
// `bus.disconnect()` of a bus whose only subscription is idle; against a plain kafkajs
// eachBatch consumer's `consumer.disconnect()`, with the bus's consumer settings and a fetch
// wait of 100 ms (the library's default) and of 5000 ms (kafkajs's default).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatMs, formatRatio, median } from './bench-stats.mjs';
import { phase } from './dispatch-kafka.mjs';
import { startEachBatchConsumer } from './kafka-baseline.mjs';
import {
  boundedClose,
  BUS_DEFAULTS,
  createTopic,
  freshGroup,
  KAFKAJS_DEFAULT_FETCH_WAIT_MS,
  libraryBus,
  preload,
  rotated,
  until,
} from './consumer-core-common.mjs';

const PARTITIONS = 3;
/** Messages consumed first, so the consumer is known to be running before it idles. */
const PRIMING_MESSAGES = 10;

export const CLOSE_SIDES = [
  { name: 'busClose', label: 'KafkaEventBus subscription.close()' },
  { name: 'busDisconnect', label: 'KafkaEventBus bus.disconnect()' },
  {
    name: 'kafkajs100',
    label: 'kafkajs consumer.disconnect(), fetch wait 100 ms',
    fetchMaxWaitMs: BUS_DEFAULTS.fetchMaxWaitMs,
  },
  {
    name: 'kafkajsDefault',
    label: `kafkajs consumer.disconnect(), fetch wait ${KAFKAJS_DEFAULT_FETCH_WAIT_MS} ms (kafkajs default)`,
    fetchMaxWaitMs: KAFKAJS_DEFAULT_FETCH_WAIT_MS,
  },
];

/** Starts the side's consumer on `topic`; returns the close to time (and its own cleanup). */
async function startSide(clients, side, topic, onMessage) {
  const groupId = freshGroup(topic, side.name);
  if (side.name === 'busClose') {
    const subscription = await clients.bus.subscribe([topic], groupId, onMessage, {
      fromBeginning: true,
    });
    return { close: () => subscription.close(), cleanup: async () => {} };
  }
  if (side.name === 'busDisconnect') {
    const bus = libraryBus(clients.brokers, 'consumer-core-close-bus');
    await bus.connect();
    await bus.subscribe([topic], groupId, onMessage, { fromBeginning: true });
    return { close: () => bus.disconnect(), cleanup: () => bus.disconnect() };
  }
  const consumer = await startEachBatchConsumer(clients.kafka, {
    topic,
    groupId,
    settings: { ...BUS_DEFAULTS, fetchMaxWaitMs: side.fetchMaxWaitMs },
    onMessage,
  });
  return { close: () => consumer.disconnect(), cleanup: () => consumer.disconnect() };
}

async function measureClose(clients, side, idleMs, label) {
  const topic = await phase(`preload (${label})`, async () => {
    const created = await createTopic(clients, `idle-close-${side.name}`, PARTITIONS);
    const messages = Array.from({ length: PRIMING_MESSAGES }, (_, i) => ({
      key: `key-${i}`,
      value: JSON.stringify({ seq: i }),
    }));
    await preload(clients, created, messages);
    return created;
  });
  let consumed = 0;
  const started = await phase(`start (${label})`, () =>
    startSide(clients, side, topic, async () => {
      consumed += 1;
    }),
  );
  try {
    await phase(`prime (${label})`, () => until(() => consumed >= PRIMING_MESSAGES, 10));
    await sleep(idleMs);
    const closing = performance.now();
    await phase(`close (${label})`, () => started.close());
    return { ms: performance.now() - closing, consumed };
  } catch (error) {
    await boundedClose(label, started.cleanup);
    throw error;
  }
}

export async function runIdleClose(clients, settings) {
  const { rounds, idleMs } = settings;
  console.log('\n=== 4) Idle close: a running, idle consumer closed ===');
  console.log(
    `  each side: fresh ${PARTITIONS}-partition topic and group, ${PRIMING_MESSAGES} messages ` +
      `consumed, then idle ${idleMs} ms, then the close is timed`,
  );
  console.log(
    `  bus:       library defaults (fetch wait ${BUS_DEFAULTS.fetchMaxWaitMs} ms), plain handler`,
  );
  console.log(
    `  baseline:  kafkajs eachBatch consumer, session ${BUS_DEFAULTS.sessionTimeoutMs} ms, ` +
      `heartbeat ${BUS_DEFAULTS.heartbeatIntervalMs} ms, ${BUS_DEFAULTS.partitionsConsumedConcurrently} ` +
      `partitions concurrently; fetch wait ${BUS_DEFAULTS.fetchMaxWaitMs} ms and ` +
      `${KAFKAJS_DEFAULT_FETCH_WAIT_MS} ms (kafkajs default), both measured`,
  );
  console.log(`  rounds:    R=${rounds}, the order of the four sides rotating`);
  const results = [];
  for (let round = 1; round <= rounds; round++) {
    const order = rotated(CLOSE_SIDES, round);
    const samples = {};
    for (const side of order) {
      samples[side.name] = await measureClose(
        clients,
        side,
        idleMs,
        `idle close, ${side.name}, round ${round}`,
      );
    }
    results.push({ round, first: order[0].name, ...samples });
    console.log(
      `  round ${round}/${rounds} (${order[0].name} first): ` +
        CLOSE_SIDES.map((side) => `${side.name} ${formatMs(samples[side.name].ms)}`).join(', '),
    );
  }
  const medianOf = (name) => median(results.map((r) => r[name].ms));
  const ratioOf = (bus, baseline) => median(results.map((r) => r[bus].ms / r[baseline].ms));
  const summary = Object.fromEntries(CLOSE_SIDES.map((side) => [side.name, medianOf(side.name)]));
  console.log(
    `  medians: ${CLOSE_SIDES.map((s) => `${s.name} ${formatMs(summary[s.name])}`).join(', ')}; ` +
      `close / kafkajs(100 ms) ${formatRatio(ratioOf('busClose', 'kafkajs100'))}`,
  );
  return {
    settings: {
      partitions: PARTITIONS,
      primingMessages: PRIMING_MESSAGES,
      idleMs,
      rounds,
      busFetchMaxWaitMs: BUS_DEFAULTS.fetchMaxWaitMs,
      baselineFetchMaxWaitMs: [BUS_DEFAULTS.fetchMaxWaitMs, KAFKAJS_DEFAULT_FETCH_WAIT_MS],
    },
    rounds: results,
    medians: summary,
    ratios: {
      closeVsKafkajs100: ratioOf('busClose', 'kafkajs100'),
      closeVsKafkajsDefault: ratioOf('busClose', 'kafkajsDefault'),
      disconnectVsKafkajs100: ratioOf('busDisconnect', 'kafkajs100'),
      disconnectVsKafkajsDefault: ratioOf('busDisconnect', 'kafkajsDefault'),
    },
  };
}
