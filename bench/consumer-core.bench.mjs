// The consumer core (KafkaEventBus subscriptions) under four loads, each against a baseline in
// the same run, on real brokers (loopback only):
//   1) slow partition: fast partitions' throughput with partition 0's handler at 20 ms per
//      message vs the same data with it instant (target >= 0.90x);
//   2) poison mix: ~3% poison dead-lettered for real through MessageDelivery vs a clean run of
//      the same count (target >= 0.67x);
//   3) recovery after kill -9 and restart of a dedicated broker: time to the first message sent
//      after the restart, KafkaEventBus vs a plain kafkajs consumer (target < 5 s);
//   4) idle close: subscription.close() / bus.disconnect() vs kafkajs consumer.disconnect()
//      (target < 100 ms).
//
//   npm run bench:consumer
//
// Env: KAFKA_BROKERS (parts 1, 2, 4 on these brokers instead of one started here; part 3 always
// starts its own), BENCH_PARTS (1,2,3,4), BENCH_ROUNDS (5: parts 1, 2, 4), BENCH_FAST_MESSAGES
// (40000 per fast partition), BENCH_SLOW_MESSAGES (400), BENCH_SLOW_MS (20),
// BENCH_POISON_MESSAGES (200000), BENCH_RECOVERY_ROUNDS (3), BENCH_TRICKLE_RATE (50 msg/s),
// BENCH_DOWN_MS (3000), BENCH_RECOVERY_TIMEOUT_MS (60000), BENCH_IDLE_MS (1500),
// BENCH_LOGS=1 (Nest and kafkajs errors on stderr).
import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Logger } from '@nestjs/common';
import * as prettier from 'prettier';
import {
  envInt,
  formatMs,
  formatRate,
  formatRatio,
  median,
  renderTable,
  runBench,
} from './support/bench-stats.mjs';
import { acquireBroker, cleanupOnSignals, phase } from './support/dispatch-kafka.mjs';
import {
  BUS_DEFAULTS,
  closeClients,
  formatSeconds,
  KAFKAJS_DEFAULT_FETCH_WAIT_MS,
  openClients,
} from './support/consumer-core-common.mjs';
import { runIdleClose } from './support/consumer-core-close.mjs';
import { runRecovery } from './support/consumer-core-recovery.mjs';
import {
  runPoisonMix,
  runSlowPartition,
  warmUpThroughput,
} from './support/consumer-core-throughput.mjs';

const ROUNDS = envInt('BENCH_ROUNDS', 5);
const SETTINGS = {
  slowPartition: {
    rounds: ROUNDS,
    fastPerPartition: envInt('BENCH_FAST_MESSAGES', 40_000),
    slowMessages: envInt('BENCH_SLOW_MESSAGES', 400),
    slowMs: envInt('BENCH_SLOW_MS', 20),
  },
  poisonMix: { rounds: ROUNDS, messages: envInt('BENCH_POISON_MESSAGES', 200_000) },
  recovery: {
    rounds: envInt('BENCH_RECOVERY_ROUNDS', 3),
    ratePerSecond: envInt('BENCH_TRICKLE_RATE', 50),
    downMs: envInt('BENCH_DOWN_MS', 3_000),
    timeoutMs: envInt('BENCH_RECOVERY_TIMEOUT_MS', 60_000),
  },
  idleClose: { rounds: ROUNDS, idleMs: Math.max(1_000, envInt('BENCH_IDLE_MS', 1_500)) },
};
const PARTS = new Set(
  (process.env.BENCH_PARTS ?? '1,2,3,4')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean),
);
const TARGETS = {
  slowPartition: 0.9,
  poisonMix: 0.67,
  recoveryMs: 5_000,
  closeMs: 100,
};
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Cleanups the signal handler runs (the brokers this process started). */
const cleanups = new Set();
function track(cleanup) {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

function printHeader() {
  console.log('Consumer core (KafkaEventBus) under load, each against a baseline in the same run');
  console.log(
    `  node ${process.version}, kafkajs ${kafkajsVersion()}, ${availableParallelism()} CPUs; ` +
      `parts ${[...PARTS].join(',')}`,
  );
  console.log(
    `  bus:      library defaults: session ${BUS_DEFAULTS.sessionTimeoutMs} ms, heartbeat ` +
      `${BUS_DEFAULTS.heartbeatIntervalMs} ms, commit every ${BUS_DEFAULTS.commitIntervalMs} ms, ` +
      `fetch wait ${BUS_DEFAULTS.fetchMaxWaitMs} ms, ${BUS_DEFAULTS.partitionsConsumedConcurrently} ` +
      `partitions concurrently, ${BUS_DEFAULTS.maxBufferedPerPartition} buffered per partition`,
  );
  console.log(
    '  dispatch: module defaults (concurrency 1, maxAttempts 3, backoff 200..10000 ms, dead ' +
      'letters on, drain 10000 ms), subscribed as IntelligenceRuntime does',
  );
}

function kafkajsVersion() {
  return /** @type {{ version: string }} */ (require('kafkajs/package.json')).version;
}

/** Parts 1, 2 and 4 on the shared broker (KAFKA_BROKERS or one started here). */
async function runSharedBrokerParts(results) {
  if (!PARTS.has('1') && !PARTS.has('2') && !PARTS.has('4')) return;
  const broker = await acquireBroker();
  const untrack = track(broker.cleanup);
  results.broker = { brokers: broker.brokers, origin: broker.origin };
  try {
    console.log(`\nShared broker: ${broker.brokers.join(',')} (${broker.origin})`);
    const clients = await phase('connect', () => openClients(broker.brokers));
    try {
      if (PARTS.has('1') || PARTS.has('2')) {
        console.log('  warm-up (untimed): one small slow-partition and poison-mix run');
        await warmUpThroughput(clients);
      }
      if (PARTS.has('1')) {
        results.slowPartition = await timed(() =>
          runSlowPartition(clients, SETTINGS.slowPartition),
        );
      }
      if (PARTS.has('2')) {
        results.poisonMix = await timed(() => runPoisonMix(clients, SETTINGS.poisonMix));
      }
      if (PARTS.has('4')) {
        results.idleClose = await timed(() => runIdleClose(clients, SETTINGS.idleClose));
      }
    } finally {
      await closeClients(clients);
    }
  } finally {
    await broker.cleanup();
    untrack();
  }
}

/** Runs one part, prints how long it took and adds that to its results. */
async function timed(part) {
  const started = performance.now();
  const result = await part();
  const elapsedMs = performance.now() - started;
  console.log(`  (part took ${formatSeconds(elapsedMs)})`);
  return { ...result, elapsedMs };
}

const yesNo = (met) => (met ? 'yes' : 'NO');

function summaryRows(results) {
  const rows = [];
  const { slowPartition, poisonMix, recovery, idleClose } = results;
  if (slowPartition) {
    rows.push([
      '1 slow partition: fast msgs, p0 slow vs instant',
      `${formatRate(slowPartition.library)} msg/s`,
      `${formatRate(slowPartition.baseline)} msg/s`,
      formatRatio(slowPartition.ratio),
      `>= ${formatRatio(TARGETS.slowPartition)}x`,
      yesNo(slowPartition.ratio >= TARGETS.slowPartition),
      slowPartition.rounds.map((r) => formatRatio(r.ratio)).join(' '),
    ]);
  }
  if (poisonMix) {
    rows.push([
      '2 poison mix: 3% dead-lettered vs clean',
      `${formatRate(poisonMix.library)} msg/s`,
      `${formatRate(poisonMix.baseline)} msg/s`,
      formatRatio(poisonMix.ratio),
      `>= ${formatRatio(TARGETS.poisonMix)}x`,
      yesNo(poisonMix.ratio >= TARGETS.poisonMix),
      poisonMix.rounds.map((r) => formatRatio(r.ratio)).join(' '),
    ]);
  }
  if (recovery) {
    const show = (ms, timedOut) => (timedOut ? `>= ${formatMs(ms)}` : formatMs(ms));
    rows.push([
      '3 recovery after broker restart: bus vs kafkajs',
      show(recovery.library, recovery.libraryTimedOut),
      show(recovery.baseline, recovery.baselineTimedOut),
      Number.isNaN(recovery.ratio) ? 'n/a' : formatRatio(recovery.ratio),
      `< ${TARGETS.recoveryMs} ms (bus)`,
      yesNo(!recovery.libraryTimedOut && recovery.library < TARGETS.recoveryMs),
      recovery.rounds.map((r) => `${formatMs(r.bus.ms)}/${formatMs(r.baseline.ms)}`).join(' '),
    ]);
  }
  if (idleClose) {
    const pairs = [
      ['busClose', 'kafkajs100', '4 idle close: subscription.close() vs kafkajs 100 ms'],
      [
        'busClose',
        'kafkajsDefault',
        `4 idle close: subscription.close() vs kafkajs ${KAFKAJS_DEFAULT_FETCH_WAIT_MS} ms`,
      ],
      ['busDisconnect', 'kafkajs100', '4 idle close: bus.disconnect() vs kafkajs 100 ms'],
      [
        'busDisconnect',
        'kafkajsDefault',
        `4 idle close: bus.disconnect() vs kafkajs ${KAFKAJS_DEFAULT_FETCH_WAIT_MS} ms`,
      ],
    ];
    for (const [bus, baseline, title] of pairs) {
      rows.push([
        title,
        formatMs(idleClose.medians[bus]),
        formatMs(idleClose.medians[baseline]),
        formatRatio(median(idleClose.rounds.map((r) => r[bus].ms / r[baseline].ms))),
        `< ${TARGETS.closeMs} ms (bus)`,
        yesNo(idleClose.medians[bus] < TARGETS.closeMs),
        idleClose.rounds.map((r) => formatMs(r[bus].ms)).join(' '),
      ]);
    }
  }
  return rows;
}

function printSummary(results) {
  const rows = summaryRows(results);
  if (rows.length === 0) return;
  console.log('\nSummary: medians per side; ratio = median of the per-round library / baseline');
  console.log('ratios (parts 1-2: msg/s, higher is better; parts 3-4: time, lower is better);');
  console.log('per-round: the ratios (1, 2), bus/kafkajs times (3), the library side (4)\n');
  const headers = ['measurement', 'library', 'baseline', 'ratio', 'target', 'met', 'per-round'];
  console.log(
    renderTable(headers, rows, ['left', 'right', 'right', 'right', 'left', 'left', 'left']),
  );
  console.log(
    `\nBaseline fetch wait: part 3 ${BUS_DEFAULTS.fetchMaxWaitMs} ms; part 4 both ` +
      `${BUS_DEFAULTS.fetchMaxWaitMs} ms (the library's default) and ` +
      `${KAFKAJS_DEFAULT_FETCH_WAIT_MS} ms (kafkajs's default); the library: ` +
      `${BUS_DEFAULTS.fetchMaxWaitMs} ms throughout`,
  );
}

async function writeResults(results) {
  const folder = path.join(here, 'results');
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, `consumer-core-${new Date().toISOString().slice(0, 10)}.json`);
  // Formatted as the repository's prettier config wants it, so `prettier --check` stays green.
  const options = (await prettier.resolveConfig(file)) ?? {};
  await writeFile(
    file,
    await prettier.format(JSON.stringify(results), { ...options, filepath: file }),
  );
  console.log(`\nResults written to ${path.relative(process.cwd(), file)}`);
}

async function main() {
  // The engine, the delivery and the bus log through Nest's Logger.
  Logger.overrideLogger(process.env.BENCH_LOGS ? ['error'] : false);
  cleanupOnSignals(() => Promise.allSettled([...cleanups].map((cleanup) => cleanup())));
  const started = performance.now();
  printHeader();
  const results = {
    bench: 'consumer-core',
    startedAt: new Date().toISOString(),
    node: process.version,
    kafkajs: kafkajsVersion(),
    cpus: availableParallelism(),
    parts: [...PARTS],
    settings: { ...SETTINGS, busDefaults: BUS_DEFAULTS, targets: TARGETS },
  };
  try {
    await runSharedBrokerParts(results);
    if (PARTS.has('3')) results.recovery = await timed(() => runRecovery(SETTINGS.recovery, track));
    printSummary(results);
  } catch (error) {
    results.error = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    results.totalMs = performance.now() - started;
    await writeResults(results);
    console.log(`Total run time ${formatSeconds(results.totalMs)}`);
  }
}

await runBench(main);
