// Shared pieces of the dispatch benchmark: env parsing, the envelopes, the trivial handler both
// sides call, and a DispatchEngine + MessageDelivery wired the way IntelligenceRuntime wires them.
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  createEnvelope,
  DispatchEngine,
  InMemoryEventBus,
  LogSanitizer,
  toOutgoing,
} from '../../dist/intelligence/index.js';
import { MessageDelivery } from '../../dist/intelligence/delivery/message.delivery.js';
import { resolveIntelligenceConfig } from '../../dist/intelligence/intelligence.config.js';

/** Size of each envelope's `payload` as JSON; the envelope around it adds ~300 bytes. */
export const PAYLOAD_BYTES = 200;
export const HANDLER_NAME = 'Bench.handle';
export const HANDLER_NODE = 'bench';

/** @returns {() => void} V8's full GC, even without --expose-gc (the npm script runs plain node) */
export function exposeGc() {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc');
}

/**
 * @template T
 * @param {readonly T[]} items
 * @param {number} size
 * @returns {T[][]}
 */
export function chunk(items, size) {
  const chunks = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** A JSON payload of exactly PAYLOAD_BYTES bytes (for seq < 10^9) carrying `seq`. */
export function makePayload(seq) {
  const payload = { seq, kind: 'bench.dispatch', note: '' };
  payload.note = 'x'.repeat(Math.max(0, PAYLOAD_BYTES - JSON.stringify(payload).length));
  return payload;
}

/**
 * Platform envelopes (`createEnvelope` + `toOutgoing`, keyed by correlation id) for `topic`.
 * @returns {import('../../dist/intelligence/index.js').OutgoingMessage[]}
 */
export function makeEnvelopes(topic, count) {
  return Array.from({ length: count }, (_, seq) =>
    toOutgoing(createEnvelope({ topic, payload: makePayload(seq), source: 'dispatch-bench' })),
  );
}

/**
 * The messages as the bus hands them to its handler: bytes plus string headers.
 * @returns {import('../../dist/intelligence/index.js').BusMessage[]}
 */
export function toBusMessages(topic, outgoing) {
  const now = String(Date.now());
  return outgoing.map((message, i) => ({
    topic,
    partition: 0,
    offset: String(i),
    timestamp: now,
    key: Buffer.from(String(message.key)),
    value: Buffer.from(message.value),
    headers: { ...message.headers },
  }));
}

/**
 * The handler of every side: trivial and async, it counts payloads, checks their `seq` field,
 * and notes when the first and the `expected`-th payload came.
 * @param {number} expected resolve `done` after this many payloads (0: never)
 */
export function createCounter(expected = 0) {
  /** @type {(value?: unknown) => void} */
  let resolveDone = () => {};
  const counter = {
    count: 0,
    bad: 0,
    first: 0,
    last: 0,
    done: new Promise((resolve) => {
      resolveDone = resolve;
    }),
    /** @param {{ seq?: unknown }} payload */
    handle: async (payload) => {
      if (counter.count === 0) counter.first = performance.now();
      counter.count += 1;
      if (typeof payload?.seq !== 'number') counter.bad += 1;
      if (counter.count === expected) {
        counter.last = performance.now();
        resolveDone();
      }
    },
  };
  return counter;
}

/** The resolved module config (every default applied) the engine and the delivery read. */
export function benchConfig(bus = { kind: 'memory' }) {
  return resolveIntelligenceConfig({ serviceName: 'dispatch-bench', bus });
}

/**
 * A loaded engine with one handler on `topic` that calls `handle(event.payload)`, and the
 * MessageDelivery whose `deliver` is the bus handler (IntelligenceRuntime.wireSteps does the
 * same: engine.load(handlers, bus), then bus.subscribe(topics, groupId, m => delivery.deliver(m))).
 * `newDelivery()` makes another MessageDelivery on the same engine.
 * @param {string} topic
 * @param {(payload: unknown) => Promise<void>} handle
 * @param {import('../../dist/intelligence/index.js').EventBus} bus connected
 * @param {ReturnType<typeof benchConfig>} config
 */
export function createDispatch(topic, handle, bus, config) {
  const sanitizer = new LogSanitizer(config.logging);
  const engine = new DispatchEngine(config, sanitizer);
  engine.load(
    [{ topic, name: HANDLER_NAME, node: HANDLER_NODE, invoke: (event) => handle(event.payload) }],
    bus,
  );
  const newDelivery = () => new MessageDelivery(engine, bus, config, sanitizer);
  return { engine, delivery: newDelivery(), newDelivery };
}

/** A connected embedded bus: the engine's output bus and the delivery's dead-letter bus. */
export async function connectedMemoryBus() {
  const bus = new InMemoryEventBus();
  await bus.connect();
  return bus;
}

/**
 * Fails unless the engine saw exactly `expected` messages, all successful, and the delivery
 * neither retried nor dead-lettered any.
 */
export function expectCleanRun(label, { engine, delivery }, counter, expected) {
  const { outcomes } = engine.metrics();
  const stats = delivery?.stats();
  const problems = [];
  if ((outcomes.success ?? 0) !== expected) {
    problems.push(`outcomes ${JSON.stringify(outcomes)}, expected ${expected} successes`);
  }
  if (counter.bad > 0) problems.push(`${counter.bad} payloads without a numeric seq`);
  if (stats && (stats.retried > 0 || stats.deadLettered > 0 || stats.dropped > 0)) {
    problems.push(`delivery stats ${JSON.stringify(stats)}`);
  }
  if (problems.length > 0) throw new Error(`${label}: ${problems.join('; ')}`);
}
