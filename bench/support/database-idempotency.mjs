// Part b of the database benchmark: what the idempotency check adds per message. Each variant
// runs the dispatch path's idempotency steps around the same awaited no-op handler, for new
// messages (a check that finds nothing, then a record): `seen`, the handler, `record`.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { InMemoryIdempotencyStore } from '../../dist/intelligence/delivery/in-memory-idempotency.store.js';
import { PostgresIdempotencyStore } from '../../dist/intelligence/delivery/postgres-idempotency.store.js';
import { formatRatio, median, renderTable } from './bench-stats.mjs';

const handle = async () => undefined;
const HANDLER = 'PatternStorageNode.storePatterns';

/** The steps of one message for a store: no promise awaited when the store answers at once. */
async function throughStore(store, scope, key) {
  const seen = store.seen(scope, key);
  if (seen === true || (seen !== false && (await seen))) return;
  await handle();
  const recorded = store.record(scope, key);
  if (recorded !== true && recorded !== false) await recorded;
}

/** @param {import('../../dist/intelligence/database/database-pool.js').DatabasePool} pool */
function createVariants(pool) {
  const scope = { groupId: 'omniintelligence-hooks', handler: HANDLER };
  return [
    {
      id: 'baseline',
      label: 'baseline: await handler() alone (same async step as the others)',
      memory: true,
      make: () => undefined,
      one: async () => {
        await handle();
      },
    },
    {
      id: 'memory',
      label: 'InMemoryIdempotencyStore seen + record',
      memory: true,
      make: () => new InMemoryIdempotencyStore(),
      one: (store, key) => throughStore(store, scope, key),
    },
    {
      id: 'postgres',
      label: 'PostgresIdempotencyStore seen + record (1 message at a time)',
      memory: false,
      make: () => new PostgresIdempotencyStore(pool),
      one: (store, key) => throughStore(store, scope, key),
    },
    {
      id: 'postgres-8',
      label: 'PostgresIdempotencyStore, 8 partitions at once (per message, wall clock)',
      memory: false,
      parallel: 8,
      make: () => new PostgresIdempotencyStore(pool),
      one: (store, key) => throughStore(store, scope, key),
    },
  ];
}

/** Wall-clock nanoseconds per message of one pass over `keys`. */
async function pass(variant, keys) {
  const state = variant.make();
  const started = performance.now();
  if (variant.parallel) {
    const lanes = Array.from({ length: variant.parallel }, async (_, lane) => {
      for (let i = lane; i < keys.length; i += variant.parallel) await variant.one(state, keys[i]);
    });
    await Promise.all(lanes);
  } else {
    for (let i = 0; i < keys.length; i++) await variant.one(state, keys[i]);
  }
  const ns = ((performance.now() - started) * 1e6) / keys.length;
  await state?.close?.();
  return ns;
}

const keysOf = (count) => Array.from({ length: count }, () => randomUUID());

/**
 * @param {import('../../dist/intelligence/database/database-pool.js').DatabasePool} pool
 * @param {{ memoryMessages: number, databaseMessages: number, rounds: number }} settings
 */
export async function benchIdempotency(pool, { memoryMessages, databaseMessages, rounds }) {
  const variants = createVariants(pool);
  const countOf = (variant) => (variant.memory ? memoryMessages : databaseMessages);
  for (const variant of variants) await pass(variant, keysOf(Math.min(countOf(variant), 2_000)));
  /** @type {Record<string, number>[]} */
  const samples = [];
  for (let round = 0; round < rounds; round += 1) {
    await pool.query('TRUNCATE intelligence_idempotency_keys');
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    const sample = {};
    for (const variant of order) sample[variant.id] = await pass(variant, keysOf(countOf(variant)));
    samples.push(sample);
  }
  const medianOf = (id) => median(samples.map((sample) => sample[id]));
  const baseline = medianOf('baseline');
  const memory = medianOf('memory') - baseline;
  const rows = variants.map((variant) => {
    const ns = medianOf(variant.id);
    const added = ns - baseline;
    const versus = (reference, own) =>
      variant.id === 'baseline' || variant.id === own ? '-' : formatRatio(added / reference);
    return [
      variant.label,
      formatNs(ns),
      variant.id === 'baseline' ? '-' : formatNs(added),
      versus(memory, 'memory'),
    ];
  });
  console.log(
    `\nb) The idempotency check's added cost per message (new messages; ${memoryMessages} per ` +
      `in-memory pass, ${databaseMessages} per database pass, ${rounds} rounds, medians)`,
  );
  console.log(
    renderTable(['variant', 'per message', 'added', 'added ÷ in-memory store'], rows, [
      'left',
      'right',
      'right',
      'right',
    ]),
  );
  return samples;
}

function formatNs(ns) {
  if (ns >= 10_000) return `${(ns / 1000).toFixed(1)} µs`;
  return `${Math.round(ns)} ns`;
}
