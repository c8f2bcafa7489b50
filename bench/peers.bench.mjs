// `npm run bench`: nestjs-intelligence against its peers on one real broker, one table, one
// JSON report (bench/results/<YYYY-MM-DD>.json, the printout in .txt).
//   consume: the module on each Kafka client (kafkajs, @platformatic/kafka) vs plain kafkajs
//            eachBatch and eachMessage, Nest's Kafka transport and plain @platformatic/kafka,
//            with a 0 µs, a 100 µs CPU and a 1 ms async handler, on envelopes and bare JSON;
//   produce: ctx.publish and the bus's publishBatch vs kafkajs producer.send;
//   lifecycle: start → wired / first message, idle close;
//   in-process: DispatchEngine per message vs a direct handler call.
// Every contender run is a child process of its own (bench/support/peers-worker.mjs) with a
// fresh consumer group; rounds interleave the contenders in rotating order; medians of the
// rounds, ratios module ÷ peer from the medians, a bitmap check of every seq per run.
//
//   npm run bench                                   (about 10-15 minutes on 2 cores)
//   BENCH_ROUNDS=1 BENCH_SCALE=0.05 npm run bench   (smoke run)
//
// Env: KAFKA_BROKERS (use these brokers instead of starting one), BENCH_ROUNDS (5),
// BENCH_SCALE (1: multiplies every message count), BENCH_CONTENDERS (all: module-kafkajs,
// module-platformatic, kafkajs-eachBatch, kafkajs-eachMessage, nest-kafka, platformatic,
// kafkajs), BENCH_REGIMES (0us,100us,1ms), BENCH_PAYLOADS (envelope,bare), BENCH_PARTS
// (consume,produce,lifecycle,inprocess), BENCH_COUNT_0US (200000), BENCH_COUNT_100US (15000),
// BENCH_COUNT_1MS (4000), BENCH_PRODUCE_SINGLE (10000), BENCH_PRODUCE_BATCH (60000),
// BENCH_PRODUCE_IN_FLIGHT (100), BENCH_PRODUCE_BATCH_SIZE (100), BENCH_IDLE_MS (1500),
// BENCH_INPROC_MESSAGES (50000), BENCH_INPROC_PASSES (7), BENCH_QUIET_MS (8000: a run that saw
// nothing new for this long has lost the rest), BENCH_LOGS=1 (the children's stderr).
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { formatRate, runBench } from './support/bench-stats.mjs';
import { rotated } from './support/consumer-core-common.mjs';
import { acquireBroker, cleanupOnSignals } from './support/dispatch-kafka.mjs';
import {
  EACH_BATCH_SETTINGS,
  loadSettings,
  PARTITIONS,
  PEER_FETCH_MAX_WAIT_MS,
} from './support/peers-config.mjs';
import { HANDLER_WORK } from './support/peers-handlers.mjs';
import { freshGroup, produceInput } from './support/peers-payloads.mjs';
import {
  checkTargets,
  renderChecklist,
  renderSummaryTable,
  summarize,
  writeReport,
} from './support/peers-report.mjs';
import { killChildren, runJob } from './support/peers-runner.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const CONSUME_DEADLINE_MS = 180_000;
const TIMEOUTS = { consume: 240_000, produce: 300_000, lifecycle: 150_000, inprocess: 300_000 };

function versionOf(pkg) {
  const file = pkg
    ? path.join(root, 'node_modules', pkg, 'package.json')
    : path.join(root, 'package.json');
  return /** @type {{ version: string }} */ (JSON.parse(readFileSync(file, 'utf8'))).version;
}

function versions() {
  return {
    node: process.version,
    'nestjs-intelligence': versionOf(undefined),
    kafkajs: versionOf('kafkajs'),
    '@platformatic/kafka': versionOf('@platformatic/kafka'),
    '@nestjs/microservices': versionOf('@nestjs/microservices'),
    '@nestjs/core': versionOf('@nestjs/core'),
  };
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const clock = (ms) => {
  const total = Math.round(ms / 1000);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
};

function printHeader(settings, info) {
  const lines = [];
  const v = info.versions;
  lines.push(
    'npm run bench: nestjs-intelligence against its peers, one broker, every run a child process',
  );
  lines.push(
    `  versions: node ${v.node}, nestjs-intelligence ${v['nestjs-intelligence']}, kafkajs ${v.kafkajs}, ` +
      `@platformatic/kafka ${v['@platformatic/kafka']}, @nestjs/microservices ${v['@nestjs/microservices']}, ` +
      `@nestjs/core ${v['@nestjs/core']}; ${info.cpus} CPUs (${info.cpuModel})`,
  );
  lines.push(
    `  rounds:   R=${settings.rounds}, contender order rotating each round, a fresh consumer group per run; ` +
      `scale ${settings.scale}; parts ${settings.parts.join(', ')}`,
  );
  for (const regime of settings.regimes) {
    lines.push(
      `  regime:   ${regime.label}, N=${regime.count} per run: handler ${HANDLER_WORK[regime.work]}; ` +
        `module dispatch ${JSON.stringify(regime.dispatch)}`,
    );
  }
  lines.push(
    `  peers:    kafkajs eachBatch: the bus's consumer settings (${EACH_BATCH_SETTINGS.partitionsConsumedConcurrently} ` +
      `partitions concurrently, fetch wait ${EACH_BATCH_SETTINGS.fetchMaxWaitMs} ms, commit every ` +
      `${EACH_BATCH_SETTINGS.commitIntervalMs} ms; bench/support/kafka-baseline.mjs)`,
  );
  lines.push(
    `            kafkajs eachMessage, Nest transport (ServerKafka, @EventPattern): their defaults ` +
      `(one partition at a time), fetch wait ${PEER_FETCH_MAX_WAIT_MS} ms`,
  );
  lines.push(
    `            @platformatic/kafka: consume() stream, for await, autocommit, maxWaitTime ${PEER_FETCH_MAX_WAIT_MS} ms`,
  );
  lines.push(
    '  measured: consume: first handler call → last distinct seq; every seq counted once per run (lost, dup)',
  );
  lines.push(
    "  module (platformatic): `bus: { kind: 'kafka', client: 'platformatic' }`; counted available only if " +
      'its app creates @platformatic/kafka clients (diagnostics channel plt:kafka:instances), else unavailable',
  );
  console.log(lines.join('\n'));
  return lines.join('\n');
}

/** The whole plan, in run order: every job with its labels. */
function plan(settings, inputs, lifecycleTopic, brokers) {
  const jobs = [];
  for (let round = 1; round <= settings.rounds; round++) {
    if (settings.parts.includes('consume')) {
      for (const regime of settings.regimes) {
        for (const payload of settings.payloads) {
          const input = inputs[`${regime.id}/${payload.id}`];
          rotated(settings.consumeContenders, round).forEach((contender, order) => {
            jobs.push({
              part: 'consume',
              round,
              order,
              regime: regime.id,
              payload: payload.id,
              contender: contender.id,
              label: `${regime.label}, ${payload.label}`,
              contenderLabel: contender.label,
              job: {
                type: 'consume',
                contender: contender.id,
                brokers,
                topic: input.topic,
                groupId: freshGroup(`${regime.id}-${payload.id}-${contender.id}-r${round}`),
                kind: payload.id,
                work: regime.work,
                count: regime.count,
                dispatch: regime.dispatch,
                quietMs: settings.quietMs,
                deadlineMs: CONSUME_DEADLINE_MS,
              },
            });
          });
        }
      }
    }
    if (settings.parts.includes('produce')) {
      rotated(settings.produceContenders, round).forEach((contender, order) => {
        jobs.push({
          part: 'produce',
          round,
          order,
          contender: contender.id,
          label: 'produce',
          contenderLabel: contender.label,
          job: { type: 'produce', contender: contender.id, brokers, ...settings.produce },
        });
      });
    }
    if (settings.parts.includes('lifecycle')) {
      rotated(settings.consumeContenders, round).forEach((contender, order) => {
        jobs.push({
          part: 'lifecycle',
          round,
          order,
          contender: contender.id,
          label: 'lifecycle',
          contenderLabel: contender.label,
          job: {
            type: 'lifecycle',
            contender: contender.id,
            brokers,
            topic: lifecycleTopic,
            groupId: freshGroup(`lifecycle-${contender.id}-r${round}`),
            primed: settings.lifecycle.primed,
            idleMs: settings.lifecycle.idleMs,
          },
        });
      });
    }
  }
  return jobs;
}

function describeResult(entry, result) {
  if (result.unavailable) return `unavailable (${result.error})`;
  if (!result.ok) return `FAILED: ${result.error}`;
  if (entry.part === 'consume') {
    const flags = [];
    if (result.lost > 0) {
      flags.push(
        `LOSS: ${result.lost} lost (${result.end}; first missing ${result.missingSample.join(', ')})`,
      );
    }
    if (result.duplicates > 0) flags.push(`${result.duplicates} dup`);
    if (result.strays > 0) flags.push(`${result.strays} strays`);
    return `${formatRate(result.rate)} msg/s in ${seconds(result.ms)}${flags.length ? `  ${flags.join(', ')}` : ''}`;
  }
  if (entry.part === 'produce') {
    return `1 msg/call ${formatRate(result.single.rate)} msg/s, batch ${formatRate(result.batch.rate)} msg/s`;
  }
  return `start ${Math.round(result.startMs)} ms, first message ${Math.round(result.readyMs)} ms, idle close ${Math.round(result.closeMs)} ms`;
}

async function openProducer(brokers) {
  const kafka = new Kafka({ clientId: 'peers-bench-inputs', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({
    idempotent: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await Promise.all([admin.connect(), producer.connect()]);
  return {
    admin,
    producer,
    close: () => Promise.allSettled([producer.disconnect(), admin.disconnect()]),
  };
}

async function main() {
  const started = performance.now();
  const settings = loadSettings();
  const info = {
    versions: versions(),
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
  };
  const header = printHeader(settings, info);
  const results = {
    bench: 'peers',
    startedAt: new Date().toISOString(),
    versions: info.versions,
    machine: { cpus: info.cpus, cpuModel: info.cpuModel, platform: process.platform },
    settings: {
      rounds: settings.rounds,
      scale: settings.scale,
      parts: settings.parts,
      regimes: settings.regimes.map(({ id, label, work, count, dispatch }) => ({
        id,
        label,
        work,
        count,
        dispatch,
      })),
      payloads: settings.payloads.map((payload) => payload.id),
      consumeContenders: settings.consumeContenders.map((c) => c.id),
      produceContenders: settings.produceContenders.map((c) => c.id),
      produce: settings.produce,
      lifecycle: settings.lifecycle,
      inProcess: settings.inProcess,
      quietMs: settings.quietMs,
      partitions: PARTITIONS,
      peers: { eachBatch: EACH_BATCH_SETTINGS, fetchMaxWaitMs: PEER_FETCH_MAX_WAIT_MS },
    },
    availability: {},
  };

  const broker = await acquireBroker();
  cleanupOnSignals(async () => {
    killChildren();
    await broker.cleanup();
  });
  results.broker = { brokers: broker.brokers, origin: broker.origin };
  console.log(`\nBroker: ${broker.brokers.join(',')} (${broker.origin})`);
  /** @type {object[]} */
  const records = [];
  let inProcess;
  try {
    const clients = await openProducer(broker.brokers);
    const inputs = {};
    let lifecycleTopic = '';
    try {
      if (settings.parts.includes('consume')) {
        for (const regime of settings.regimes) {
          for (const payload of settings.payloads) {
            const t0 = performance.now();
            const input = await produceInput(
              clients,
              payload.id,
              `${regime.id}-${payload.id}`,
              regime.count,
            );
            inputs[`${regime.id}/${payload.id}`] = input;
            console.log(
              `  input ${regime.id}/${payload.id}: ${input.count} messages, value ~${Math.round(input.valueBytes)} B, ` +
                `key ${Math.round(input.keyBytes)} B, ${input.headers} headers, ${PARTITIONS} partitions ` +
                `(produced in ${seconds(performance.now() - t0)})`,
            );
          }
        }
      }
      if (settings.parts.includes('lifecycle')) {
        lifecycleTopic = (
          await produceInput(clients, 'envelope', 'lifecycle', settings.lifecycle.primed)
        ).topic;
      }
    } finally {
      await clients.close();
    }
    results.inputs = inputs;

    // Untimed: the first group and the module's first wiring create the broker's offsets and
    // introspection topics; no measured run pays for that.
    if (lifecycleTopic) {
      const warm = await runJob(
        {
          type: 'lifecycle',
          contender: 'module-kafkajs',
          brokers: broker.brokers,
          topic: lifecycleTopic,
          groupId: freshGroup('warm-up'),
          primed: settings.lifecycle.primed,
          idleMs: 100,
        },
        TIMEOUTS.lifecycle,
      );
      console.log(`  warm-up (untimed): ${warm.ok ? 'ok' : `failed: ${warm.error}`}`);
    }

    const jobs = plan(settings, inputs, lifecycleTopic, broker.brokers);
    const total = jobs.length + (settings.parts.includes('inprocess') ? 1 : 0);
    /** @type {Map<string, string>} contender → why it is unavailable */
    const unavailable = new Map();
    const runsStarted = performance.now();
    console.log(`\nRuns (${total}):`);
    for (const [index, entry] of jobs.entries()) {
      const skipKey = `${entry.part === 'produce' ? 'produce:' : ''}${entry.contender}`;
      let result;
      const t0 = performance.now();
      if (unavailable.has(skipKey)) {
        result = { ok: false, unavailable: true, error: unavailable.get(skipKey), skipped: true };
      } else {
        result = await runJob(entry.job, TIMEOUTS[entry.job.type]);
        if (result.unavailable) unavailable.set(skipKey, result.error);
      }
      const wallMs = performance.now() - t0;
      records.push({
        part: entry.part,
        round: entry.round,
        order: entry.order,
        ...(entry.regime ? { regime: entry.regime, payload: entry.payload } : {}),
        contender: entry.contender,
        wallMs,
        result,
      });
      if (result.skipped) continue;
      const done = index + 1;
      const elapsed = performance.now() - runsStarted;
      const left = (elapsed / done) * (total - done);
      console.log(
        `  [${String(done).padStart(String(total).length)}/${total} ${clock(elapsed)} elapsed, ~${clock(left)} left] ` +
          `r${entry.round} ${entry.label} · ${entry.contenderLabel}: ${describeResult(entry, result)}`,
      );
    }
    if (settings.parts.includes('inprocess')) {
      inProcess = await runJob(
        {
          type: 'inprocess',
          contender: 'module',
          messages: settings.inProcess.messages,
          passes: settings.inProcess.passes,
          kinds: settings.payloads.map((payload) => payload.id),
        },
        TIMEOUTS.inprocess,
      );
      console.log(
        `  [${total}/${total}] in-process dispatch: ${
          inProcess.ok
            ? Object.entries(inProcess.kinds)
                .map(
                  ([kind, r]) =>
                    `${kind} direct ${Math.round(r.nsPerMessage.direct)} ns, engine ${Math.round(r.nsPerMessage.engine)} ns`,
                )
                .join('; ')
            : `FAILED: ${inProcess.error}`
        }`,
      );
    }
    for (const contender of ['module-kafkajs', 'module-platformatic']) {
      const ran = records.find((record) => record.contender === contender && record.result.ok);
      const reason = unavailable.get(contender) ?? unavailable.get(`produce:${contender}`);
      if (ran) results.availability[contender] = { available: true, bus: ran.result.info?.bus };
      else if (reason) results.availability[contender] = { available: false, reason };
    }
  } finally {
    await broker.cleanup();
  }

  const summary = summarize(records);
  const table = renderSummaryTable(summary, inProcess, settings);
  const checks = checkTargets(summary, inProcess, settings);
  const losses = records.filter((record) => record.result.ok && record.result.lost > 0);
  const lines = [
    '',
    `Summary: medians of ${settings.rounds} round(s) (runs with a loss or a failure left out); per round in run order;`,
    "module ÷ = the module's median ÷ this row's median (msg/s: higher is better for the module; ms: lower is)",
    '',
    table,
    '',
    'Targets (from the medians):',
    renderChecklist(checks),
  ];
  const unavailableLines = Object.entries(results.availability)
    .filter(([, entry]) => !entry.available)
    .map(([contender, entry]) => `  ${contender}: ${entry.reason}`);
  if (unavailableLines.length > 0) lines.push('', 'Unavailable:', ...unavailableLines);
  if (losses.length > 0) {
    lines.push('', `WARNING: ${losses.length} run(s) lost messages:`);
    for (const record of losses) {
      lines.push(
        `  r${record.round} ${record.regime}/${record.payload} ${record.contender}: ${record.result.lost} lost, first missing ${record.result.missingSample.join(', ')}`,
      );
    }
  }
  const wallMs = performance.now() - started;
  lines.push('', `Wall time ${clock(wallMs)} (${seconds(wallMs)})`);
  const text = lines.join('\n');
  console.log(text);

  Object.assign(results, {
    finishedAt: new Date().toISOString(),
    wallMs,
    summary,
    inProcess,
    targets: checks,
    runs: records,
  });
  const files = await writeReport(path.join(here, 'results'), results, `${header}\n${text}`);
  console.log(
    `Report: ${path.relative(process.cwd(), files.jsonFile)}, ${path.relative(process.cwd(), files.txtFile)}`,
  );
}

await runBench(main);
