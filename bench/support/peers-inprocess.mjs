// The in-process job (in the worker process): what dispatching one message costs in the module,
// without a broker, per payload kind. Each pass awaits one message after the other:
//   direct:   `await handler(JSON.parse(value).payload)` (bare JSON: the object), the least any
//             dispatcher does with the same bytes;
//   engine:   `await engine.dispatch(message)`: the module's DispatchEngine, loaded with the
//             handler, on a connected in-memory bus (createDispatch, as wireSteps loads it);
//   delivery: `await delivery.deliver(message)`: the bus's handler, engine + retry policy.
// Warm-up passes first, then `passes` passes per variant in rotating order; ns per message.
import { performance } from 'node:perf_hooks';
import { median } from './bench-stats.mjs';
import {
  benchConfig,
  connectedMemoryBus,
  createCounter,
  createDispatch,
  toBusMessages,
} from './dispatch-fixtures.mjs';
import { decodePayload } from './peers-handlers.mjs';
import { makeMessage } from './peers-payloads.mjs';

const TOPIC = 'onex.evt.peers-bench.inprocess-requested.v1';
const WARM_UP_PASSES = 3;

function variantsFor(kind, messages, counter, dispatch) {
  const { handle } = counter;
  return [
    {
      id: 'direct',
      fresh: () => undefined,
      pass: async () => {
        for (let i = 0; i < messages.length; i++) {
          await handle(decodePayload(kind, messages[i].value.toString('utf8')));
        }
      },
    },
    {
      id: 'engine',
      fresh: () => undefined,
      pass: async () => {
        for (let i = 0; i < messages.length; i++) await dispatch.engine.dispatch(messages[i]);
      },
    },
    {
      id: 'delivery',
      // A new MessageDelivery per pass, so what one keeps does not pile up over the passes.
      fresh: dispatch.newDelivery,
      pass: async (delivery) => {
        for (let i = 0; i < messages.length; i++) await delivery.deliver(messages[i]);
      },
    },
  ];
}

async function timePass(variant, count) {
  const state = variant.fresh();
  const started = performance.now();
  await variant.pass(state);
  return ((performance.now() - started) * 1e6) / count;
}

async function measureKind(kind, count, passes) {
  const outgoing = Array.from({ length: count }, (_, seq) => makeMessage(kind, TOPIC, seq));
  const messages = toBusMessages(TOPIC, outgoing);
  const counter = createCounter();
  const bus = await connectedMemoryBus();
  const dispatch = createDispatch(TOPIC, counter.handle, bus, benchConfig());
  const variants = variantsFor(kind, messages, counter, dispatch);
  for (let i = 0; i < WARM_UP_PASSES; i++) {
    for (const variant of variants) await timePass(variant, count);
  }
  /** @type {Record<string, number[]>} */
  const samples = Object.fromEntries(variants.map((variant) => [variant.id, []]));
  for (let pass = 0; pass < passes; pass++) {
    const shift = pass % variants.length;
    for (const variant of [...variants.slice(shift), ...variants.slice(0, shift)]) {
      samples[variant.id].push(await timePass(variant, count));
    }
  }
  const { outcomes } = dispatch.engine.metrics();
  const expected = 2 * (WARM_UP_PASSES + passes) * count;
  await bus.disconnect();
  if ((outcomes.success ?? 0) !== expected || counter.bad > 0) {
    throw new Error(
      `in-process ${kind}: outcomes ${JSON.stringify(outcomes)}, expected ${expected} successes; ${counter.bad} payloads without a seq`,
    );
  }
  const medians = Object.fromEntries(
    Object.entries(samples).map(([id, values]) => [id, median(values)]),
  );
  return {
    messages: count,
    passes,
    nsPerMessage: medians,
    overheadNs: {
      engine: median(samples.engine.map((ns, i) => ns - samples.direct[i])),
      delivery: median(samples.delivery.map((ns, i) => ns - samples.direct[i])),
    },
    samples,
  };
}

/** @param {{ messages: number, passes: number, kinds: ('envelope' | 'bare')[] }} job */
export async function runInProcess(job) {
  const kinds = {};
  for (const kind of job.kinds) kinds[kind] = await measureKind(kind, job.messages, job.passes);
  return { kinds };
}
