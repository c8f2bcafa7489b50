// Part a of the database benchmark: PostgresPatternStore upserts per second, one statement per
// pattern (the storage node's loop: await each upsert) against upsertMany in batches of 25
// (the size of a pattern-learned batch), on new patterns and on merges into stored ones.
import { performance } from 'node:perf_hooks';
import { PostgresPatternStore } from '../../dist/nodes/pattern-storage/postgres-pattern.store.js';
import { patternIdOf } from '../../dist/nodes/shared/pattern-id.compute.js';
import { formatRate, formatRatio, median, perSecond, renderTable } from './bench-stats.mjs';

export const BATCH = 25;

/** `count` distinct learned patterns of session `sessionId`, tools named after `tag`. */
function learnedPatterns(count, tag, sessionId) {
  return Array.from({ length: count }, (_, i) => {
    const sequence = [`Read-${tag}-${i}`, 'Edit', i % 2 === 0 ? 'Bash' : 'Grep'];
    return {
      pattern_id: patternIdOf(sequence),
      sequence,
      occurrences: 1 + (i % 5),
      session_id: sessionId,
    };
  });
}

const VARIANTS = {
  single: async (store, patterns) => {
    for (const pattern of patterns) await store.upsert(pattern);
  },
  batched: async (store, patterns) => {
    for (let i = 0; i < patterns.length; i += BATCH) {
      await store.upsertMany(patterns.slice(i, i + BATCH));
    }
  },
};

/**
 * @param {import('../../dist/intelligence/database/database-pool.js').DatabasePool} pool
 * @param {{ patterns: number, rounds: number }} settings
 */
export async function benchPatternUpserts(pool, { patterns, rounds }) {
  const store = new PostgresPatternStore(pool);
  /** @type {{ insert: Record<string, number>, merge: Record<string, number> }[]} */
  const samples = [];
  const run = async (variant, round, tag) => {
    const fresh = learnedPatterns(patterns, `${tag}-${round}-${variant}`, 's-1');
    const merges = fresh.map((pattern) => ({ ...pattern, session_id: 's-2', occurrences: 9 }));
    let started = performance.now();
    await VARIANTS[variant](store, fresh);
    const insert = perSecond(patterns, performance.now() - started);
    started = performance.now();
    await VARIANTS[variant](store, merges);
    const merge = perSecond(patterns, performance.now() - started);
    return { insert, merge };
  };
  await pool.query('TRUNCATE intelligence_patterns');
  await run('single', 0, 'warmup');
  await run('batched', 0, 'warmup');
  for (let round = 0; round < rounds; round += 1) {
    await pool.query('TRUNCATE intelligence_patterns');
    // Interleaved, the order swapped every round: drift on the machine hits both sides alike.
    const order = round % 2 === 0 ? ['single', 'batched'] : ['batched', 'single'];
    const result = {};
    for (const variant of order) result[variant] = await run(variant, round + 1, 'timed');
    samples.push({
      insert: { single: result.single.insert, batched: result.batched.insert },
      merge: { single: result.single.merge, batched: result.batched.merge },
    });
  }
  const rows = ['insert', 'merge'].map((kind) => {
    const single = samples.map((sample) => sample[kind].single);
    const batched = samples.map((sample) => sample[kind].batched);
    const ratios = batched.map((rate, i) => rate / single[i]);
    return [
      kind === 'insert' ? 'new patterns' : 'merge into stored (new session)',
      formatRate(median(single)),
      formatRate(median(batched)),
      formatRatio(median(ratios)),
      ratios.map(formatRatio).join(' '),
    ];
  });
  console.log(
    `\na) Pattern upserts per second: one by one vs upsertMany in batches of ${BATCH} ` +
      `(${patterns} patterns per pass, ${rounds} rounds, medians)`,
  );
  console.log(
    renderTable(
      ['upserts', 'one by one /s', `batched ${BATCH} /s`, 'ratio', 'per-round ratios'],
      rows,
      ['left', 'right', 'right', 'right', 'left'],
    ),
  );
  return samples;
}
