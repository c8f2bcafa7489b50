import { beforeAll, describe, expect, it } from '@jest/globals';
import type { DatabasePool } from '../../../src/intelligence/database/database-pool.js';
import { IDEMPOTENCY_TABLE } from '../../../src/intelligence/database/database-schema.js';
import type {
  IdempotencyScope,
  IdempotencyStore,
} from '../../../src/intelligence/delivery/idempotency-store.js';
import { InMemoryIdempotencyStore } from '../../../src/intelligence/delivery/in-memory-idempotency.store.js';
import { PostgresIdempotencyStore } from '../../../src/intelligence/delivery/postgres-idempotency.store.js';
import { testPool, useDatabaseServer } from '../../support/postgres-env.js';
import { pause, waitFor } from '../../support/wait-for.js';

const scope = (handler: string, groupId = 'group-a'): IdempotencyScope => ({ groupId, handler });

/** `seen()` as the engine calls it: no await when the store answers synchronously. */
async function isSeen(store: IdempotencyStore, at: IdempotencyScope, key: string) {
  const seen = store.seen(at, key);
  return seen === true || (seen !== false && (await seen));
}

interface StoreHarness {
  name: string;
  /** A store with nothing recorded, whose records expire after `retentionMs`. */
  create: (retentionMs?: number) => Promise<IdempotencyStore>;
  pool: () => DatabasePool;
}

describe('IdempotencyStore adapters', () => {
  const server = useDatabaseServer();
  let url: string;
  let pool: DatabasePool;
  beforeAll(async () => {
    url = await server.migratedDatabase('idempotency');
    pool = testPool(url);
  });

  const harnesses: StoreHarness[] = [
    {
      name: 'InMemoryIdempotencyStore',
      create: (retentionMs) =>
        Promise.resolve(new InMemoryIdempotencyStore({ ttlMs: retentionMs })),
      pool: () => pool,
    },
    {
      name: 'PostgresIdempotencyStore',
      create: async (retentionMs) => {
        await pool.query(`TRUNCATE ${IDEMPOTENCY_TABLE}`);
        return new PostgresIdempotencyStore(pool, { retentionMs });
      },
      pool: () => pool,
    },
  ];

  describe.each(harnesses)('$name', (harness) => {
    it('skips a recorded key for its consumer group and handler only', async () => {
      const store = await harness.create();
      const handler = scope('Node.handle');
      expect(await isSeen(store, handler, 'env-1')).toBe(false);
      expect(await store.record(handler, 'env-1')).toBe(true);
      expect(await isSeen(store, handler, 'env-1')).toBe(true);
      expect(await isSeen(store, { ...handler }, 'env-1')).toBe(true);
      expect(await isSeen(store, scope('Node.other'), 'env-1')).toBe(false);
      expect(await isSeen(store, scope('Node.handle', 'group-b'), 'env-1')).toBe(false);
      expect(await isSeen(store, handler, 'env-2')).toBe(false);
      expect(await store.record(handler, 'env-1')).toBe(false);
      const long = 'k'.repeat(5_000);
      await store.record(handler, long);
      expect(await isSeen(store, handler, long)).toBe(true);
      expect(await isSeen(store, handler, `${long}x`)).toBe(false);
    });

    it('forgets a key after the retention, and records it again', async () => {
      const store = await harness.create(500);
      const handler = scope('Node.expiring');
      await store.record(handler, 'env-1');
      expect(await isSeen(store, handler, 'env-1')).toBe(true);
      await pause(700);
      expect(await isSeen(store, handler, 'env-1')).toBe(false);
      expect(await store.record(handler, 'env-1')).toBe(true);
      expect(await isSeen(store, handler, 'env-1')).toBe(true);
    });

    it("records inside the caller's transaction: nothing on rollback, the key on commit", async () => {
      const store = await harness.create();
      const handler = scope('Node.transactional');
      const db = harness.pool();
      await expect(
        db.withTransaction(async (tx) => {
          expect(await store.record(handler, 'env-1', tx)).toBe(true);
          throw new Error('handler failed after recording');
        }),
      ).rejects.toThrow('handler failed');
      expect(await isSeen(store, handler, 'env-1')).toBe(false);

      await db.withTransaction(async (tx) => {
        await store.record(handler, 'env-1', tx);
      });
      expect(await isSeen(store, handler, 'env-1')).toBe(true);
    });
  });

  describe('InMemoryIdempotencyStore', () => {
    it('keeps at least the last maxKeys keys of a scope and at most twice as many', () => {
      const store = new InMemoryIdempotencyStore({ maxKeys: 3 });
      const handler = scope('Node.bounded');
      for (let i = 1; i <= 10; i += 1) store.record(handler, `env-${i}`);
      const known = Array.from({ length: 10 }, (_, i) => store.seen(handler, `env-${i + 1}`));
      expect(known.slice(-3)).toEqual([true, true, true]);
      expect(known.filter(Boolean).length).toBeLessThanOrEqual(6);
      expect(known[0]).toBe(false);
      store.clear();
      expect(store.seen(handler, 'env-10')).toBe(false);
    });
  });

  describe('PostgresIdempotencyStore', () => {
    it('shares records between instances (two pools, one database) and across restarts', async () => {
      await pool.query(`TRUNCATE ${IDEMPOTENCY_TABLE}`);
      const first = new PostgresIdempotencyStore(pool);
      await first.record(scope('Node.shared'), 'env-1');
      const other = new PostgresIdempotencyStore(testPool(url));
      expect(await other.seen(scope('Node.shared'), 'env-1')).toBe(true);
      expect(await other.record(scope('Node.shared'), 'env-1')).toBe(false);
    });

    it('lets one of two transactions recording the same key win; the other learns it lost', async () => {
      await pool.query(`TRUNCATE ${IDEMPOTENCY_TABLE}`);
      const store = new PostgresIdempotencyStore(pool);
      const handler = scope('Node.raced');
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const winner = pool.withTransaction(async (tx) => {
        const recorded = await store.record(handler, 'env-1', tx);
        await held;
        return recorded;
      });
      await pause(50);
      // Blocks on the winner's row until it commits, then finds the key taken.
      const loser = pool.withTransaction((tx) => store.record(handler, 'env-1', tx));
      await pause(50);
      release();
      expect(await Promise.all([winner, loser])).toEqual([true, false]);
    });

    it('purges expired records in bounded batches, keeping live ones', async () => {
      await pool.query(`TRUNCATE ${IDEMPOTENCY_TABLE}`);
      const expiring = new PostgresIdempotencyStore(pool, {
        retentionMs: 1,
        purgeBatchSize: 7,
        purgeMaxBatches: 2,
        purgeIntervalMs: 60_000,
      });
      await pool.query(
        `INSERT INTO ${IDEMPOTENCY_TABLE} (consumer_group, handler, idempotency_key, expires_at) ` +
          "SELECT 'group-a', 'Node.purged', 'old-' || n, now() - interval '1 minute' " +
          'FROM generate_series(1, 30) AS n',
      );
      await pool.query(
        `INSERT INTO ${IDEMPOTENCY_TABLE} (consumer_group, handler, idempotency_key, expires_at) ` +
          "VALUES ('group-a', 'Node.purged', 'live-1', now() + interval '1 hour')",
      );
      expect(await expiring.purgeExpired()).toBe(14);
      expect(await expiring.purgeExpired()).toBe(14);
      expect(await expiring.purgeExpired()).toBe(2);
      const left = await pool.query<{ idempotency_key: string }>(
        `SELECT idempotency_key FROM ${IDEMPOTENCY_TABLE}`,
      );
      expect(left.rows).toEqual([{ idempotency_key: 'live-1' }]);
    });

    it('purges on record() at most once per interval, and close() waits for a purge running', async () => {
      await pool.query(`TRUNCATE ${IDEMPOTENCY_TABLE}`);
      const expired = (count: number) =>
        pool.query(
          `INSERT INTO ${IDEMPOTENCY_TABLE} (consumer_group, handler, idempotency_key, expires_at) ` +
            `SELECT 'g', 'h', 'old-' || md5(random()::text), now() - interval '1 minute' ` +
            `FROM generate_series(1, ${count})`,
        );
      const count = async () => {
        const rows = await pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM ${IDEMPOTENCY_TABLE}`,
        );
        return Number(rows.rows[0]?.n);
      };
      await expired(5);
      const store = new PostgresIdempotencyStore(pool, { purgeIntervalMs: 60_000 });
      await store.record(scope('h', 'g'), 'new-1');
      await waitFor(async () => (await count()) === 1, 'the first record() to purge');
      await expired(1);
      await store.record(scope('h', 'g'), 'new-2');
      await pause(100);
      expect(await count()).toBe(3); // not due again: the expired row stays until the next interval
      expect(await store.seen(scope('h', 'g'), 'new-2')).toBe(true);

      const closing = new PostgresIdempotencyStore(pool, { purgeIntervalMs: 60_000 });
      await closing.record(scope('h', 'g'), 'new-3');
      await closing.close();
      expect(await count()).toBe(3); // the purge it started finished before close() resolved
    });
  });
});
