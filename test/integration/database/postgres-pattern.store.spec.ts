import { beforeAll, describe, expect, it } from '@jest/globals';
import { PATTERNS_TABLE } from '../../../src/intelligence/database/database-schema.js';
import type { DatabasePool } from '../../../src/intelligence/database/database-pool.js';
import { decideTransition } from '../../../src/nodes/pattern-lifecycle/pattern-lifecycle.compute.js';
import {
  MAX_PATTERN_SESSIONS,
  PostgresPatternStore,
} from '../../../src/nodes/pattern-storage/postgres-pattern.store.js';
import {
  PatternIdConflictError,
  type PatternStore,
} from '../../../src/nodes/pattern-storage/pattern.store.js';
import type { SqlClient } from '../../../src/nodes/pattern-storage/sql-client.interface.js';
import type { PatternStatus } from '../../../src/nodes/shared/pattern.schema.js';
import { patternIdOf } from '../../../src/nodes/shared/pattern-id.compute.js';
import { describePatternStoreContract } from '../../support/pattern-store-contract.js';
import { testPool, useDatabaseServer } from '../../support/postgres-env.js';

const learned = (tools: string[], occurrences: number, sessionId: string) => ({
  pattern_id: patternIdOf(tools),
  sequence: tools,
  occurrences,
  session_id: sessionId,
});

/**
 * What the lifecycle node does with a transition request: decide from the stored status,
 * compare-and-set, and decide again from the new status when another writer won.
 */
async function requestTransition(
  store: PatternStore,
  patternId: string,
  to: PatternStatus,
  cause: string,
): Promise<'applied' | 'noop' | 'illegal'> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const record = await store.get(patternId);
    if (!record) throw new Error(`no pattern ${patternId}`);
    const decision = decideTransition(record.status, to);
    if (decision.kind !== 'apply') return decision.kind;
    const result = await store.setStatus(patternId, {
      from_status: record.status,
      to_status: to,
      reason: null,
      cause,
      correlation_id: cause,
    });
    if (result.applied) return 'applied';
  }
  throw new Error(`transition ${cause} never settled`);
}

describe('PostgresPatternStore (real PostgreSQL)', () => {
  const server = useDatabaseServer();
  let url: string;
  let pool: DatabasePool;
  let other: DatabasePool;
  beforeAll(async () => {
    url = await server.migratedDatabase('patterns');
    pool = testPool(url, { poolSize: 8 });
    other = testPool(url, { poolSize: 8 });
  });

  const emptyStore = async (sql: SqlClient = pool, maxSessions?: number) => {
    await pool.query(`TRUNCATE ${PATTERNS_TABLE}`);
    return new PostgresPatternStore(sql, maxSessions);
  };

  describePatternStoreContract('PostgresPatternStore', {
    createStore: () => emptyStore(),
    maxSessions: MAX_PATTERN_SESSIONS,
  });

  describePatternStoreContract('PostgresPatternStore with a small session bound', {
    createStore: () => emptyStore(pool, 3),
    maxSessions: 3,
  });

  it('keeps patterns across a restart: a new pool and store find them as stored', async () => {
    const store = await emptyStore();
    await store.upsert(learned(['Read', 'Edit'], 4, 's-1'));
    const restarted = testPool(url);
    const again = new PostgresPatternStore(restarted);
    expect(await again.upsert(learned(['Read', 'Edit'], 2, 's-2'))).toMatchObject({
      created: false,
      record: { occurrences: 4, sessions: ['s-1', 's-2'] },
    });
    await restarted.close();
  });

  it('upserts a batch in one statement: results in input order, repeats merged', async () => {
    const store = await emptyStore();
    await store.upsert(learned(['Grep'], 2, 's-0'));
    const results = await store.upsertMany([
      learned(['Read'], 1, 's-1'),
      learned(['Grep'], 1, 's-1'),
      learned(['Read'], 3, 's-2'),
      learned(['Grep'], 1, 's-0'),
    ]);
    expect(results.map((result) => [result.record.sequence[0], result.created])).toEqual([
      ['Read', true],
      ['Grep', false],
      ['Read', false],
      ['Grep', false],
    ]);
    expect(results[0]?.record).toMatchObject({ occurrences: 3, sessions: ['s-1', 's-2'] });
    expect(results[1]?.record).toMatchObject({ occurrences: 2, sessions: ['s-0', 's-1'] });
    expect(await store.upsertMany([])).toEqual([]);
    // Unchanged patterns are read back, not written again.
    const again = await store.upsertMany([learned(['Read'], 2, 's-1')]);
    expect(again).toEqual([{ created: false, record: results[0]?.record }]);
  });

  it('rejects an id stored (or repeated in the batch) with another sequence', async () => {
    const store = await emptyStore();
    await store.upsert(learned(['Read'], 1, 's-1'));
    const forged = { ...learned(['Read'], 1, 's-2'), sequence: ['Bash'] };
    await expect(store.upsertMany([learned(['Edit'], 1, 's-2'), forged])).rejects.toThrow(
      PatternIdConflictError,
    );
    await expect(store.upsertMany([learned(['Grep'], 1, 's-1'), forged])).rejects.toThrow(
      /is stored for \["Read"\], not \["Bash"\]/,
    );
    const twice = [
      learned(['Bash'], 1, 's-1'),
      { ...learned(['Bash'], 1, 's-2'), sequence: ['X'] },
    ];
    await expect(store.upsertMany(twice)).rejects.toThrow(PatternIdConflictError);
    expect(await store.get(patternIdOf(['Read']))).toMatchObject({ sequence: ['Read'] });
  });

  it('two instances racing transitions on one pattern lose no update and still refuse illegal ones', async () => {
    const tools = ['Read', 'Edit', 'Bash'];
    const id = patternIdOf(tools);
    const stores = [new PostgresPatternStore(pool), new PostgresPatternStore(other)];
    for (let round = 0; round < 5; round += 1) {
      const seeded = await emptyStore();
      await seeded.upsert(learned(tools, 5, 's-1'));
      const requests = Array.from({ length: 40 }, (_, i) => {
        const to: PatternStatus = i % 3 === 0 ? 'deprecated' : 'validated';
        return { store: stores[i % 2] as PatternStore, to, cause: `round-${round}/request-${i}` };
      });
      const outcomes = await Promise.all(
        requests.map((request) => requestTransition(request.store, id, request.to, request.cause)),
      );
      const record = await stores[0]?.get(id);
      const applied = requests.filter((_, i) => outcomes[i] === 'applied');
      // Every applied change is in the history, once, and the history is a legal chain.
      expect(record?.transitions.map((transition) => transition.cause).sort()).toEqual(
        applied.map((request) => request.cause).sort(),
      );
      const chain = record?.transitions.map((t) => `${t.from_status}>${t.to_status}`) ?? [];
      expect([
        ['candidate>validated', 'validated>deprecated'],
        ['candidate>deprecated'],
      ]).toContainEqual(chain);
      expect(record?.status).toBe('deprecated');
      // Requests for validated after the deprecation were refused as illegal, not applied.
      if (chain.length === 1) expect(outcomes).toContain('illegal');
      expect(outcomes.filter((outcome) => outcome === 'applied')).toHaveLength(chain.length);
      expect(await requestTransition(stores[1] as PatternStore, id, 'validated', 'late')).toBe(
        'illegal',
      );
    }
  });

  it('two instances upserting one pattern at once lose no session and create it once', async () => {
    const store = await emptyStore();
    const stores = [store, new PostgresPatternStore(other)];
    const tools = ['Glob', 'Read'];
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (stores[i % 2] as PostgresPatternStore).upsert(learned(tools, (i * 7) % 23 || 1, `s-${i}`)),
      ),
    );
    expect(results.filter((result) => result.created)).toHaveLength(1);
    const record = await store.get(patternIdOf(tools));
    expect(record?.occurrences).toBe(22);
    expect([...(record?.sessions ?? [])].sort()).toEqual(
      Array.from({ length: 60 }, (_, i) => `s-${i}`).sort(),
    );
  });

  it('promotes many patterns concurrently from two instances: each exactly once', async () => {
    const store = await emptyStore();
    const patterns = Array.from({ length: 30 }, (_, i) => learned([`Tool${i}`], 3, 's-1'));
    await store.upsertMany(patterns);
    const stores = [store, new PostgresPatternStore(other)];
    const outcomes = await Promise.all(
      patterns.flatMap((pattern, i) =>
        stores.map((s, j) => requestTransition(s, pattern.pattern_id, 'validated', `p${i}-${j}`)),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'applied')).toHaveLength(30);
    const records = await store.list();
    expect(records.every((record) => record.transitions.length === 1)).toBe(true);
    expect(records.every((record) => record.status === 'validated')).toBe(true);
  });
});
