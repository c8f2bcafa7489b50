// Part a of the dispatch benchmark: the in-process cost of dispatching one message, against
// the least any dispatcher must do with the same bytes (JSON.parse + the handler) and against a
// bare handler call. No broker, no bus in the timed path: a loop awaiting each message in turn.
// Then the heap each variant still holds after a pass (after a full GC), per message.
import { performance } from 'node:perf_hooks';
import { decodeMessage } from '../../dist/intelligence/wire/envelope.codec.js';
import { formatRate, formatRatio, median, renderTable } from './bench-stats.mjs';
import {
  benchConfig,
  connectedMemoryBus,
  createCounter,
  createDispatch,
  expectCleanRun,
  exposeGc,
  makeEnvelopes,
  toBusMessages,
} from './dispatch-fixtures.mjs';

const TOPIC = 'onex.evt.dispatch-bench.inprocess-requested.v1';
const WARMUP_PASSES = 3;

/**
 * The timed variants, cheapest first. Each handles every message once per pass and calls the
 * same handler with the same payload. `pass(state)` takes what `fresh()` made for that pass.
 */
function createVariants(messages, payloads, counter, dispatch) {
  const { handle } = counter;
  const { engine, newDelivery } = dispatch;
  const none = () => undefined;
  return [
    {
      id: 'bare',
      label: 'bare `await handler(payload)` (payloads parsed beforehand)',
      fresh: none,
      pass: async () => {
        for (let i = 0; i < payloads.length; i++) await handle(payloads[i]);
      },
    },
    {
      id: 'parse',
      label: 'baseline: JSON.parse(value) + await handler(payload)',
      fresh: none,
      pass: async () => {
        for (let i = 0; i < messages.length; i++) {
          await handle(JSON.parse(messages[i].value.toString('utf8')).payload);
        }
      },
    },
    {
      id: 'decode',
      label: 'decodeMessage(message) + await handler(payload)  [breakdown]',
      fresh: none,
      pass: async () => {
        for (let i = 0; i < messages.length; i++) {
          const decoded = decodeMessage(messages[i]);
          if (!decoded.ok) throw new Error(`decode failed: ${decoded.detail}`);
          await handle(decoded.event.payload);
        }
      },
    },
    {
      id: 'engine',
      label: 'await engine.dispatch(message)',
      fresh: none,
      pass: async () => {
        for (let i = 0; i < messages.length; i++) await engine.dispatch(messages[i]);
      },
    },
    {
      id: 'delivery',
      label: 'await delivery.deliver(message)  [bus handler = engine + retry policy]',
      // A new MessageDelivery per pass: what one holds on to (see the heap table) would
      // otherwise pile up over the passes and slow every variant down with GC work.
      fresh: newDelivery,
      pass: async (delivery) => {
        for (let i = 0; i < messages.length; i++) await delivery.deliver(messages[i]);
      },
    },
  ];
}

/** @returns {Promise<number>} ns per message of one pass */
async function timePass(variant, count) {
  const state = variant.fresh();
  const started = performance.now();
  await variant.pass(state);
  return ((performance.now() - started) * 1e6) / count;
}

/** Rotates the order each round so no variant always runs right after the same one. */
function rotated(variants, round) {
  const shift = round % variants.length;
  return [...variants.slice(shift), ...variants.slice(0, shift)];
}

async function settledHeap(gc) {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/**
 * Heap still used after one pass, per message: full GC before and after, with the pass's
 * state (the engine, or the pass's MessageDelivery) still reachable at the second reading.
 */
async function retainedPerMessage(variants, count) {
  const gc = exposeGc();
  const rows = [];
  for (const variant of variants) {
    const state = variant.fresh();
    const before = await settledHeap(gc);
    await variant.pass(state);
    const after = await settledHeap(gc);
    rows.push({ variant, bytes: (after - before) / count, state });
  }
  return rows;
}

/**
 * Runs part a: warm-up passes, then `rounds` rounds of one pass per variant, then one more
 * pass per variant for the retained heap.
 * @param {{ messages: number, rounds: number }} settings
 */
export async function runInProcess({ messages: count, rounds }) {
  const envelopes = makeEnvelopes(TOPIC, count);
  const messages = toBusMessages(TOPIC, envelopes);
  const payloads = messages.map((message) => JSON.parse(message.value.toString('utf8')).payload);
  const counter = createCounter();
  const bus = await connectedMemoryBus();
  const dispatch = createDispatch(TOPIC, counter.handle, bus, benchConfig());
  const variants = createVariants(messages, payloads, counter, dispatch);
  const valueBytes = messages.reduce((sum, message) => sum + message.value.length, 0) / count;

  console.log('\n=== a) in-process dispatch cost per message, same run ===');
  console.log(`  N=${count} messages per pass, ${rounds} rounds after ${WARMUP_PASSES} warm-up`);
  console.log(`  passes per variant; envelope value ~${Math.round(valueBytes)} B (payload 200 B);`);
  console.log('  each pass awaits one message after the other (no concurrency)');

  for (let i = 0; i < WARMUP_PASSES; i++) {
    for (const variant of variants) await timePass(variant, count);
  }
  /** @type {Record<string, number[]>} */
  const samples = Object.fromEntries(variants.map((variant) => [variant.id, []]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of rotated(variants, round)) {
      samples[variant.id].push(await timePass(variant, count));
    }
  }
  const retained = await retainedPerMessage(variants, count);
  const passes = WARMUP_PASSES + rounds + 1;
  // engine.dispatch runs directly, and once more under each delivery.deliver.
  expectCleanRun('in-process', { engine: dispatch.engine }, counter, 2 * passes * count);
  await bus.disconnect();
  printTimes(variants, samples, rounds);
  printRetained(retained, count);
}

function printTimes(variants, samples, rounds) {
  const ratios = (id, baseId) => samples[id].map((ns, round) => ns / samples[baseId][round]);
  const rows = variants.map(({ id, label }) => [
    label,
    median(samples[id]).toFixed(0),
    formatRate(1e9 / median(samples[id])),
    formatRatio(median(ratios(id, 'parse'))),
    formatRatio(median(ratios(id, 'bare'))),
  ]);
  console.log(`\nSummary of ${rounds} rounds: median ns/message; ratio = median of per-round`);
  console.log('ratios (how many times the time of parse+handler, of a bare handler call)\n');
  const headers = ['variant', 'ns/msg', 'msg/s', 'vs parse+handler', 'vs bare handler'];
  console.log(renderTable(headers, rows, ['left', 'right', 'right', 'right', 'right']));

  console.log('\nPer-round ns/message (order rotated each round):');
  const roundHeaders = ['variant', ...samples.bare.map((_, round) => `r${round + 1}`)];
  const roundRows = variants.map(({ id }) => [id, ...samples[id].map((ns) => ns.toFixed(0))]);
  console.log(renderTable(roundHeaders, roundRows, ['left', ...samples.bare.map(() => 'right')]));
  for (const id of ['engine', 'delivery']) {
    console.log(
      `Per-round ratio ${id} / parse+handler: ${ratios(id, 'parse').map(formatRatio).join(' ')}`,
    );
  }
}

function printRetained(retained, count) {
  console.log(`\nHeap still held after one more pass of N=${count} (full GC before and after):`);
  const rows = retained.map(({ variant, bytes }) => [variant.id, bytes.toFixed(1)]);
  console.log(renderTable(['variant', 'bytes/message'], rows, ['left', 'right']));
  const delivery = retained.find(({ variant }) => variant.id === 'delivery');
  if (delivery && delivery.bytes > 100) {
    console.log(
      `  MessageDelivery keeps ~${Math.round(delivery.bytes)} B per delivered message while it ` +
        'lives (the module keeps one for the app lifetime)',
    );
  }
}
