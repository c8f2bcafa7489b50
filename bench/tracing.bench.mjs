// What OpenTelemetry tracing costs per message, three modes in one run:
//   off     tracing: { enabled: false }
//   no-sdk  tracing on (the default), @opentelemetry/api installed, no SDK registered
//   sdk     tracing on with a BasicTracerProvider + SimpleSpanProcessor + InMemorySpanExporter
//           and the W3C propagator, registered only while its passes run
// Each message goes through MessageDelivery.deliver → DispatchEngine → an async handler that
// calls ctx.publish once (a consumer span and a producer span per message when traced); every
// message carries an incoming `traceparent`. The output bus drops what it is given, so the
// timings hold dispatch, envelope and tracing work only. The modes take turns in blocks of
// BENCH_BLOCK messages (order rotated each block), so a drift of the machine's speed falls on
// all three alike; a round sends every message through every mode; medians of the per-round
// ratios against off.
//
//   npm run bench:tracing
//
// Env: BENCH_MESSAGES (30000 per round and mode), BENCH_BLOCK (500), BENCH_ROUNDS (9),
// BENCH_LOGS=1 (Nest errors on stderr).
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Logger } from '@nestjs/common';
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  DispatchEngine,
  InMemoryEventBus,
  LogSanitizer,
  MessageTracing,
} from '../dist/intelligence/index.js';
import { MessageDelivery } from '../dist/intelligence/delivery/message.delivery.js';
import { resolveIntelligenceConfig } from '../dist/intelligence/intelligence.config.js';
import { envInt, formatRate, median, renderTable, runBench } from './support/bench-stats.mjs';
import { exposeGc, makeEnvelopes, toBusMessages } from './support/dispatch-fixtures.mjs';

const SETTINGS = {
  messages: envInt('BENCH_MESSAGES', 30_000),
  block: envInt('BENCH_BLOCK', 500),
  rounds: envInt('BENCH_ROUNDS', 9),
};
const WARMUP_ROUNDS = 1;
const TARGET_NO_SDK = 1.02;
const IN = 'onex.cmd.tracing-bench.work-requested.v1';
const OUT = 'onex.evt.tracing-bench.work-done.v1';
const INCOMING = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const here = path.dirname(fileURLToPath(import.meta.url));

/** Every line printed, for the report file. */
const printed = [];
function say(line = '') {
  console.log(line);
  printed.push(line);
}

/** The handlers' output bus: counts what it is given and keeps the last one, nothing else. */
class SinkBus extends InMemoryEventBus {
  published = 0;
  last = undefined;

  async publishBatch(_topic, messages) {
    this.published += messages.length;
    this.last = messages.at(-1);
  }
}

/** The SDK of the `sdk` mode: registered globally only around that mode's passes. */
function createSdk() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const propagator = new W3CTraceContextPropagator();
  return {
    exporter,
    register: () => {
      trace.setGlobalTracerProvider(provider);
      propagation.setGlobalPropagator(propagator);
    },
    unregister: () => {
      trace.disable();
      propagation.disable();
      exporter.reset();
    },
  };
}

/** A loaded engine with one handler publishing once per message, as the module wires it. */
async function createMode(id, label, enabled, sdk) {
  const config = resolveIntelligenceConfig({ serviceName: 'tracing-bench', tracing: { enabled } });
  const sanitizer = new LogSanitizer(config.logging);
  const tracing = await MessageTracing.load(config.tracing.enabled, sanitizer);
  const engine = new DispatchEngine(config, sanitizer, tracing);
  const bus = new SinkBus();
  await bus.connect();
  engine.load(
    [
      {
        topic: IN,
        name: 'Bench.work',
        node: 'bench',
        invoke: (event, ctx) => ctx.publish(OUT, event.payload),
      },
    ],
    bus,
  );
  return {
    id,
    label,
    engine,
    bus,
    sdk,
    newDelivery: () => new MessageDelivery(engine, bus, config, sanitizer),
  };
}

/** @returns {Promise<number>} ms to deliver `messages[from, to)` */
async function timeBlock(mode, delivery, messages, from, to) {
  mode.bus.published = 0;
  mode.sdk?.register();
  const started = performance.now();
  for (let i = from; i < to; i++) await delivery.deliver(messages[i]);
  const ms = performance.now() - started;
  checkBlock(mode, to - from);
  mode.sdk?.unregister();
  return ms;
}

/** Fails unless the block published what it should, traced only in the sdk mode. */
function checkBlock(mode, count) {
  const traceparent = mode.bus.last?.headers?.traceparent;
  const spans = mode.sdk?.exporter.getFinishedSpans().length ?? 0;
  const expected = mode.sdk ? 2 * count : 0;
  const { published } = mode.bus;
  if (
    published !== count ||
    spans !== expected ||
    (traceparent === undefined) === Boolean(mode.sdk)
  ) {
    throw new Error(
      `${mode.id}: ${published} published of ${count}, ${spans} spans (expected ${expected}), ` +
        `last traceparent ${traceparent}`,
    );
  }
}

/**
 * One round: every message through every mode, the modes taking turns block by block.
 * @returns {Promise<Record<string, number[]>>} ms of each block, by mode
 */
async function runRound(modes, messages, gc) {
  const deliveries = modes.map((mode) => mode.newDelivery());
  const blocks = modes.map(() => []);
  gc();
  for (let from = 0, turn = 0; from < messages.length; from += SETTINGS.block, turn++) {
    const to = Math.min(from + SETTINGS.block, messages.length);
    for (let k = 0; k < modes.length; k++) {
      const index = (turn + k) % modes.length;
      blocks[index].push(await timeBlock(modes[index], deliveries[index], messages, from, to));
    }
  }
  return Object.fromEntries(modes.map((mode, index) => [mode.id, blocks[index]]));
}

/**
 * Medians of the rounds (ns/message), and of the ratios to off block by block: a block's
 * ratio compares the same messages delivered moments apart, so a stall of the machine
 * (another process, a GC) spoils a few blocks rather than a whole round.
 */
function report(modes, rounds, count) {
  const nsPerMessage = (id) =>
    rounds.map((round) => (round[id].reduce((sum, ms) => sum + ms, 0) * 1e6) / count);
  const blockRatios = (round, id) => round[id].map((ms, block) => ms / round.off[block]);
  const ratio = (id) => median(rounds.flatMap((round) => blockRatios(round, id)));
  const rows = modes.map(({ id, label }) => [
    label,
    median(nsPerMessage(id)).toFixed(0),
    formatRate(1e9 / median(nsPerMessage(id))),
    id === 'off' ? '-' : ratio(id).toFixed(3),
    id === 'off' ? '-' : `${((ratio(id) - 1) * 100).toFixed(1)} %`,
  ]);
  const blocks = rounds.length * (rounds[0]?.off.length ?? 0);
  say(`\nns/msg: median of ${rounds.length} rounds; ratio: median of ${blocks} paired blocks\n`);
  const headers = ['mode', 'ns/msg', 'msg/s', 'ratio vs off', 'added'];
  say(renderTable(headers, rows, ['left', 'right', 'right', 'right', 'right']));

  say('\nPer-round ns/message:');
  const roundHeaders = ['mode', ...rounds.map((_, round) => `r${round + 1}`)];
  const roundRows = modes.map(({ id }) => [id, ...nsPerMessage(id).map((ns) => ns.toFixed(0))]);
  say(renderTable(roundHeaders, roundRows, ['left', ...rounds.map(() => 'right')]));
  for (const { id } of modes.slice(1)) {
    const perRound = rounds.map((round) => median(blockRatios(round, id)).toFixed(3));
    say(`Per-round median block ratio ${id} / off: ${perRound.join(' ')}`);
  }
  const noSdk = ratio('no-sdk');
  const verdict = noSdk < TARGET_NO_SDK ? 'met' : 'NOT met';
  say(`\nTarget: no-sdk < ${TARGET_NO_SDK.toFixed(2)} × off: ${noSdk.toFixed(3)}, ${verdict}`);
}

async function writeReport() {
  const folder = path.join(here, 'results');
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, `tracing-${new Date().toISOString().slice(0, 10)}.txt`);
  await writeFile(file, `${printed.join('\n')}\n`);
  console.log(`\nReport: ${path.relative(process.cwd(), file)}`);
}

async function main() {
  Logger.overrideLogger(process.env.BENCH_LOGS ? ['error'] : false);
  const started = performance.now();
  const { messages: count, block, rounds } = SETTINGS;
  say('Tracing cost per message: off vs on without an SDK vs on with an in-memory exporter');
  say(`  node: ${process.version}, ${availableParallelism()} CPUs`);
  say(`  N=${count} messages per round and mode, in blocks of ${block} taking turns (rotated);`);
  say(`  ${rounds} rounds after ${WARMUP_ROUNDS} warm-up round, a full GC before each round;`);
  say('  MessageDelivery.deliver → DispatchEngine → handler → ctx.publish, awaited one by one;');
  say('  every message carries a traceparent');

  const gc = exposeGc();
  const outgoing = makeEnvelopes(IN, count).map((message) => ({
    ...message,
    headers: { ...message.headers, traceparent: INCOMING },
  }));
  const messages = toBusMessages(IN, outgoing);
  const modes = [
    await createMode('off', 'off: tracing { enabled: false }', false),
    await createMode('no-sdk', 'no-sdk: tracing on, no SDK registered', true),
    await createMode('sdk', 'sdk: BasicTracerProvider + InMemorySpanExporter', true, createSdk()),
  ];
  for (let round = 0; round < WARMUP_ROUNDS; round++) await runRound(modes, messages, gc);
  const measured = [];
  for (let round = 0; round < rounds; round++) measured.push(await runRound(modes, messages, gc));
  report(modes, measured, count);
  say(`\nTotal run time ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await writeReport();
}

await runBench(main);
