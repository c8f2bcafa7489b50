// What `npm run bench` (bench/peers.bench.mjs) runs: the contenders, the handler regimes, the
// payload kinds, the message counts, the rounds and the targets, with their env overrides.
import { envInt } from './bench-stats.mjs';

/**
 * The consume contenders. `module` ones run IntelligenceModule in a Nest application context;
 * the others are the peers, each written as its own documentation shows it.
 */
export const CONSUME_CONTENDERS = [
  { id: 'module-kafkajs', label: 'module (kafkajs)', module: true, client: 'kafkajs' },
  {
    id: 'module-platformatic',
    label: 'module (platformatic)',
    module: true,
    client: 'platformatic',
  },
  { id: 'kafkajs-eachBatch', label: 'kafkajs eachBatch', module: false },
  { id: 'kafkajs-eachMessage', label: 'kafkajs eachMessage', module: false },
  { id: 'nest-kafka', label: 'Nest Kafka transport', module: false },
  { id: 'platformatic', label: '@platformatic/kafka consume()', module: false },
];

/** The produce contenders: each runs both produce measurements (single and batch). */
export const PRODUCE_CONTENDERS = [
  { id: 'module-kafkajs', label: 'module (kafkajs)', module: true, client: 'kafkajs' },
  {
    id: 'module-platformatic',
    label: 'module (platformatic)',
    module: true,
    client: 'platformatic',
  },
  { id: 'kafkajs', label: 'kafkajs producer.send', module: false },
];

/** The handler regimes; `dispatch` is the module's `dispatch` option in that regime. */
export const REGIMES = [
  {
    id: '0us',
    label: '0 µs handler',
    work: 'none',
    defaultCount: 200_000,
    countEnv: 'BENCH_COUNT_0US',
    dispatch: {},
  },
  {
    id: '100us',
    label: '100 µs CPU handler',
    work: 'cpu',
    defaultCount: 15_000,
    countEnv: 'BENCH_COUNT_100US',
    dispatch: {},
  },
  {
    id: '1ms',
    label: '1 ms async handler',
    work: 'io',
    defaultCount: 4_000,
    countEnv: 'BENCH_COUNT_1MS',
    dispatch: { concurrency: 16 },
  },
];

export const PAYLOADS = [
  { id: 'envelope', label: 'envelopes' },
  { id: 'bare', label: 'bare JSON' },
];

/** Targets, checked against the medians (see peers-report.mjs). */
export const TARGETS = {
  vsEachBatchKafkajs: 0.9,
  vsEachBatchPlatformatic: 1.0,
  vsNestAt0us: 3,
  asyncVsSequential: 8,
  inProcessOverheadNs: 1_000,
  publishVsSend: 0.95,
  idleCloseMs: 100,
};

/** Partitions of every input topic. */
export const PARTITIONS = 6;

/**
 * Consumer settings shared by the module's kafkajs bus (its defaults, spelled out) and the
 * kafkajs eachBatch peer (the project's baseline, bench/support/kafka-baseline.mjs).
 */
export const EACH_BATCH_SETTINGS = {
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  commitIntervalMs: 1_000,
  fetchMaxWaitMs: 100,
  partitionsConsumedConcurrently: 4,
};

/** Fetch wait of every peer (the module's default; kafkajs's own is 5000 ms). */
export const PEER_FETCH_MAX_WAIT_MS = 100;

function list(name, all) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return all;
  const wanted = raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  const unknown = wanted.filter((id) => !all.some((item) => item.id === id));
  if (unknown.length > 0) {
    throw new Error(
      `${name}: unknown ${unknown.join(', ')}; known: ${all.map((item) => item.id).join(', ')}`,
    );
  }
  return all.filter((item) => wanted.includes(item.id));
}

function envScale() {
  const raw = process.env.BENCH_SCALE;
  if (raw === undefined || raw === '') return 1;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error('BENCH_SCALE must be a positive number');
  return value;
}

/** A count scaled by BENCH_SCALE, at least `min`. */
function scaled(value, scale, min) {
  return Math.max(min, Math.round(value * scale));
}

/** Sections of the run, BENCH_PARTS (all by default). */
const PARTS = ['consume', 'produce', 'lifecycle', 'inprocess'];

/** Every setting of one run, from the environment. */
export function loadSettings() {
  const scale = envScale();
  const parts = list(
    'BENCH_PARTS',
    PARTS.map((id) => ({ id })),
  ).map((part) => part.id);
  const regimes = list('BENCH_REGIMES', REGIMES).map((regime) => ({
    ...regime,
    count: envInt(regime.countEnv, scaled(regime.defaultCount, scale, 200)),
  }));
  const contenders = list('BENCH_CONTENDERS', [
    ...CONSUME_CONTENDERS,
    ...PRODUCE_CONTENDERS.filter((c) => !CONSUME_CONTENDERS.some((d) => d.id === c.id)),
  ]).map((contender) => contender.id);
  return {
    scale,
    rounds: envInt('BENCH_ROUNDS', 5),
    parts,
    regimes,
    payloads: list('BENCH_PAYLOADS', PAYLOADS),
    consumeContenders: CONSUME_CONTENDERS.filter((c) => contenders.includes(c.id)),
    produceContenders: PRODUCE_CONTENDERS.filter((c) => contenders.includes(c.id)),
    produce: {
      single: envInt('BENCH_PRODUCE_SINGLE', scaled(10_000, scale, 500)),
      batch: envInt('BENCH_PRODUCE_BATCH', scaled(60_000, scale, 1_000)),
      inFlight: envInt('BENCH_PRODUCE_IN_FLIGHT', 100),
      batchSize: envInt('BENCH_PRODUCE_BATCH_SIZE', 100),
    },
    lifecycle: { primed: 10, idleMs: envInt('BENCH_IDLE_MS', 1_500) },
    inProcess: {
      messages: envInt('BENCH_INPROC_MESSAGES', scaled(50_000, scale, 2_000)),
      passes: envInt('BENCH_INPROC_PASSES', 7),
    },
    /** A run that has not seen a new message for this long has lost the rest. */
    quietMs: envInt('BENCH_QUIET_MS', 8_000),
  };
}
