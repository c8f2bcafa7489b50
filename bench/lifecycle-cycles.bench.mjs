// Heap growth over wire → fail → cleanup → wire cycles of IntelligenceModule in one process,
// against the same loop shape without the module (a plain embedded bus and a timer) in the
// same run. test/unit/runtime/wiring-cycles.spec.ts asserts the handles; this reports the heap.
//
//   npm run bench:lifecycle        (runs node --expose-gc)
//
// One module cycle: subscribe refused → runtime.wire() (fails, cleans up) → subscribe allowed →
// runtime.wire() (ok) → cleanup.run('shutdown'). The heap is read after full GCs before the
// loop, after the warm-up cycles, after CYCLES and after 2 × CYCLES (cycles counted from 0).
// The module runs twice: on the embedded bus as shipped (a topic nobody consumes keeps its
// newest 10000 messages, and every wiring publishes 2 introspection events), and with that
// retention cut to 64 messages, which leaves the module's own growth.
//
// Env: BENCH_CYCLES (1000), BENCH_WARMUP_CYCLES (100), BENCH_ROUNDS (3).
import 'reflect-metadata';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { Logger } from '@nestjs/common';
import { InMemoryEventBus } from '../dist/intelligence/index.js';
import {
  envInt,
  formatRatio,
  median,
  renderTable,
  runBench,
  withTimeout,
} from './support/bench-stats.mjs';
import { CyclingBus, EFFECT_TOPIC, startCyclesApp } from './support/lifecycle-app.mjs';

const CYCLES = envInt('BENCH_CYCLES', 1_000);
const WARMUP = envInt('BENCH_WARMUP_CYCLES', 100);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const CHECKPOINTS = [0, WARMUP, CYCLES, 2 * CYCLES];
const SMALL_RETENTION = 64;
const SIDE_TIMEOUT_MS = 60_000;

/**
 * heapUsed after full GCs, with the event loop turning in between (finalizers, weak refs), and
 * the part of it that is V8's code space (compiled code: grows while the JIT warms up).
 */
async function settledHeap() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const code = getHeapSpaceStatistics().find((space) => space.space_name === 'code_space');
  return { used: process.memoryUsage().heapUsed, code: code?.space_used_size ?? 0 };
}

/** @returns {Record<string, number>} active handles and requests by kind */
function activeResources() {
  /** @type {Record<string, number>} */
  const counts = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

function formatResources(counts) {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '(none)' : entries.map(([k, n]) => `${k}:${n}`).join(' ');
}

// --- the sides --------------------------------------------------------------------------------

/**
 * The loop shape without the module: per cycle a "failed wiring" (connect, start a timer, stop
 * it, disconnect) and a "successful wiring + shutdown" (connect, start a timer, subscribe, then
 * stop the timer, close the subscription, disconnect), on one plain embedded bus.
 */
async function startBaseline() {
  const bus = new InMemoryEventBus();
  const handler = async () => {};
  const noop = () => {};
  return {
    retained: () => undefined,
    cycle: async () => {
      await bus.connect();
      let timer = setTimeout(noop, 60_000);
      clearTimeout(timer);
      await bus.disconnect();
      await bus.connect();
      timer = setTimeout(noop, 60_000);
      const subscription = await bus.subscribe([EFFECT_TOPIC], 'cycles-baseline', handler);
      clearTimeout(timer);
      await subscription.close();
      await bus.disconnect();
    },
    stop: async () => {},
  };
}

/** The module on a CyclingBus; like the spec, starts from a cleaned-up first wiring. */
async function startModule(busOptions) {
  const bus = new CyclingBus(busOptions);
  const { app, runtime, cleanup } = await startCyclesApp(bus);
  if (!runtime.status().lastResult?.ok) throw new Error('the first wiring (at init) failed');
  await cleanup.run('shutdown');
  let cycles = 0;
  return {
    retained: () => bus.retainedMessages(),
    cycle: async () => {
      cycles += 1;
      bus.failSubscribe = true;
      const failed = await runtime.wire();
      bus.failSubscribe = false;
      const wired = await runtime.wire();
      if (failed.ok || !wired.ok) {
        throw new Error(`cycle ${cycles}: failed.ok=${failed.ok}, wired.ok=${wired.ok}`);
      }
      await cleanup.run('shutdown');
    },
    stop: async () => {
      if (bus.connects !== 2 * cycles + 1) {
        throw new Error(`bus connected ${bus.connects} times, expected ${2 * cycles + 1}`);
      }
      await app.close();
    },
  };
}

const SIDES = [
  { id: 'baseline', label: 'baseline (bus + timer, no module)', start: () => startBaseline() },
  { id: 'module', label: 'module, embedded bus as shipped', start: () => startModule({}) },
  {
    id: 'module-64',
    label: `module, bus retention ${SMALL_RETENTION}/topic`,
    start: () => startModule({ maxBufferedPerTopic: SMALL_RETENTION }),
  },
];

// --- measurement ------------------------------------------------------------------------------

/**
 * Runs one side from cycle 0 to the last checkpoint, reading the heap at each checkpoint.
 * @returns {Promise<{ heap: number[], retained: (number | undefined)[], msPerCycle: number,
 *   before: Record<string, number>, after: Record<string, number> }>}
 */
async function measureSide(side) {
  const runner = await side.start();
  const heap = [];
  const code = [];
  const retained = [];
  let cyclesDone = 0;
  let loopMs = 0;
  let before = {};
  for (const checkpoint of CHECKPOINTS) {
    const started = performance.now();
    for (; cyclesDone < checkpoint; cyclesDone++) await runner.cycle();
    loopMs += performance.now() - started;
    const settled = await settledHeap();
    heap.push(settled.used);
    code.push(settled.code);
    retained.push(runner.retained());
    if (checkpoint === 0) before = activeResources();
  }
  const after = activeResources();
  await runner.stop();
  return { heap, code, retained, msPerCycle: loopMs / cyclesDone, before, after };
}

/** Bytes per cycle between two checkpoints (of heapUsed, or of another series). */
function growth(sample, from, to, series = sample.heap) {
  return (series[to] - series[from]) / (CHECKPOINTS[to] - CHECKPOINTS[from]);
}

const WINDOWS = [
  { label: `per cycle, ${WARMUP}→${CYCLES}`, from: 1, to: 2 },
  { label: `per cycle, ${CYCLES}→${2 * CYCLES}`, from: 2, to: 3 },
];

// --- reporting --------------------------------------------------------------------------------

function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function bytes(value) {
  return `${value >= 0 ? '+' : ''}${value.toFixed(0)} B`;
}

function printRound(round, samples) {
  console.log(`\nRound ${round}/${ROUNDS}`);
  const headers = [
    'side',
    ...CHECKPOINTS.map((c) => `heap @${c}`),
    ...WINDOWS.map((w) => w.label),
    'ms/cycle',
    'bus retained @0/@end',
  ];
  const rows = SIDES.map(({ id, label }) => {
    const sample = samples[id];
    const retained = sample.retained;
    return [
      label,
      ...sample.heap.map((h) => `${(h / 1048576).toFixed(2)} MiB`),
      ...WINDOWS.map(({ from, to }) => bytes(growth(sample, from, to))),
      sample.msPerCycle.toFixed(2),
      retained[0] === undefined ? '-' : `${retained[0]}/${retained[retained.length - 1]}`,
    ];
  });
  console.log(renderTable(headers, rows, ['left', ...headers.slice(1).map(() => 'right')]));
}

function printSummary(rounds) {
  const perCycle = (id, from, to, series = 'heap') =>
    median(rounds.map((s) => growth(s[id], from, to, s[id][series])));
  const headers = [
    'side',
    ...WINDOWS.map((w) => `heap ${w.label}`),
    ...WINDOWS.map((w) => `of which code, ${w.label.replace('per cycle, ', '')}`),
    `total 0→${2 * CYCLES}`,
  ];
  const rows = SIDES.map(({ id, label }) => [
    label,
    ...WINDOWS.map(({ from, to }) => bytes(perCycle(id, from, to))),
    ...WINDOWS.map(({ from, to }) => bytes(perCycle(id, from, to, 'code'))),
    kib(median(rounds.map((s) => s[id].heap[3] - s[id].heap[0]))),
  ]);
  console.log(`\nSummary of ${ROUNDS} rounds: median heap growth per cycle (heapUsed after full`);
  console.log("GC; 'code' is the part in V8's code space, i.e. JIT output, not data)\n");
  console.log(renderTable(headers, rows, ['left', ...headers.slice(1).map(() => 'right')]));

  console.log('\nRatio of per-cycle growth, module / baseline (median of per-round ratios).');
  console.log(
    'Both are near zero when nothing leaks, so the ratio is noisy: read the bytes above.',
  );
  for (const id of ['module', 'module-64']) {
    const parts = WINDOWS.map(({ label, from, to }) => {
      const ratios = rounds.map((s) => growth(s[id], from, to) / growth(s.baseline, from, to));
      return `${label}: ${formatRatio(median(ratios))} (${ratios.map(formatRatio).join(' ')})`;
    });
    console.log(`  ${id.padEnd(9)} ${parts.join('; ')}`);
  }

  const shipped = rounds.map((s) => s.module);
  const perMessage = median(
    shipped.map((s) => (s.heap[3] - s.heap[1]) / ((s.retained[3] ?? 0) - (s.retained[1] ?? 0))),
  );
  const perCycleMessages = median(
    shipped.map((s) => ((s.retained[3] ?? 0) - (s.retained[1] ?? 0)) / (CHECKPOINTS[3] - WARMUP)),
  );
  if (Number.isFinite(perMessage)) {
    console.log(
      `\nModule as shipped: the embedded bus keeps ${perCycleMessages.toFixed(1)} more messages ` +
        'per cycle (introspection',
    );
    console.log(
      `and heartbeats, no consumer group), ~${Math.round(perMessage)} B of heap each, up to ` +
        'retainUnread (1000) per',
    );
    console.log(
      `topic. With retention cut to ${SMALL_RETENTION}, what remains is the module's own growth.`,
    );
  }

  console.log(`\nActive resources (process.getActiveResourcesInfo) after cycle 0 → after cycle`);
  console.log(`${2 * CYCLES}, per round (Timeout:1 is the bench's own per-side time limit):`);
  for (const { id } of SIDES) {
    const lines = rounds.map(
      (s) => `${formatResources(s[id].before)} → ${formatResources(s[id].after)}`,
    );
    const same = rounds.every(
      (s) => formatResources(s[id].before) === formatResources(s[id].after),
    );
    console.log(`  ${id.padEnd(9)} ${same ? 'unchanged' : 'CHANGED'}: ${lines.join(' | ')}`);
  }
}

function printHeader() {
  console.log('IntelligenceModule wire → fail → cleanup → wire cycles: heap growth vs baseline');
  console.log(`  cycles:  heap read at ${CHECKPOINTS.join(', ')} (warm-up ${WARMUP})`);
  console.log('  module:  2 nodes (effect + compute), 1 handler each, heartbeat 60 s, no retry,');
  console.log('           health off; subscribe refused on the 1st wire() of each cycle');
  console.log('  sides:   baseline, module as shipped, module with small bus retention; order');
  console.log(`           rotated each round; ${ROUNDS} rounds`);
  console.log(`  node:    ${process.version}, ${availableParallelism()} CPUs`);
}

async function main() {
  if (typeof globalThis.gc !== 'function') {
    throw new Error('run with node --expose-gc (npm run bench:lifecycle does)');
  }
  Logger.overrideLogger(false);
  const started = performance.now();
  printHeader();
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const shift = (round - 1) % SIDES.length;
    const order = [...SIDES.slice(shift), ...SIDES.slice(0, shift)];
    /** @type {Record<string, Awaited<ReturnType<typeof measureSide>>>} */
    const samples = {};
    for (const side of order) {
      samples[side.id] = await withTimeout(
        measureSide(side),
        SIDE_TIMEOUT_MS,
        `${side.id}, round ${round}`,
      );
    }
    printRound(round, samples);
    rounds.push(samples);
  }
  printSummary(rounds);
  console.log(`\nTotal run time ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await runBench(main);
