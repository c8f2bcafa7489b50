import { createHook } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startPostgres, type PostgresHandle } from '../../../scripts/postgres/server.mjs';
import { DatabasePool } from '../../../src/intelligence/database/database-pool.js';
import {
  DatabaseClosedError,
  TransactionClosedError,
} from '../../../src/intelligence/database/database.errors.js';
import type { DatabaseTransaction } from '../../../src/intelligence/database/database-transaction.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';
import { activeHandles } from '../../support/active-handles.js';
import { captureLogs } from '../../support/capture-logs.js';
import { testPool, useDatabaseServer } from '../../support/postgres-env.js';
import { waitFor } from '../../support/wait-for.js';

describe('DatabasePool (real PostgreSQL)', () => {
  const server = useDatabaseServer();
  let url: string;
  beforeAll(async () => {
    url = await server.createDatabase('pool');
  });

  it('counts statements and errors, and shows the pool in health', async () => {
    const pool = testPool(url);
    expect(pool.health()).toMatchObject({
      status: 'unknown',
      queries: 0,
      errors: 0,
      totalCount: 0,
    });
    await Promise.all([pool.query('SELECT 1'), pool.query('SELECT $1::int AS n', [2])]);
    await expect(pool.query('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
    const health = pool.health();
    expect(health).toMatchObject({
      status: 'up', // a bad statement reached the server: the database is fine
      target: expect.stringMatching(/^127\.0\.0\.1:\d+\/pool_\w+$/) as unknown,
      queries: 3,
      errors: 1,
      maxConnections: 5,
      waitingCount: 0,
      lastError: {
        connection: false,
        message: expect.stringContaining('no_such_table') as unknown,
      },
    });
    expect(health.totalCount).toBeGreaterThanOrEqual(1);
    expect(health.idleCount).toBe(health.totalCount);
  });

  it('commits a transaction when its function resolves, rolls it back when it throws', async () => {
    const pool = testPool(url);
    await pool.query('CREATE TABLE tx_rows (n int PRIMARY KEY)');
    const committed: string[] = [];

    const result = await pool.withTransaction(async (tx) => {
      await tx.query('INSERT INTO tx_rows VALUES (1)');
      tx.onCommit(() => committed.push('first'));
      return 'done';
    });
    expect(result).toBe('done');
    expect(committed).toEqual(['first']);

    let leaked: DatabaseTransaction | undefined;
    await expect(
      pool.withTransaction(async (tx) => {
        leaked = tx;
        tx.onCommit(() => committed.push('second'));
        await tx.query('INSERT INTO tx_rows VALUES (2)');
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(committed).toEqual(['first']);
    expect(leaked?.state).toBe('rolled-back');
    expect(() => leaked?.query('SELECT 1')).toThrow(TransactionClosedError);

    // A failing statement aborts the transaction; a unique violation on COMMIT-time too.
    await expect(
      pool.withTransaction(async (tx) => {
        await tx.query('INSERT INTO tx_rows VALUES (3)');
        await tx.query('INSERT INTO tx_rows VALUES (1)');
      }),
    ).rejects.toThrow(/duplicate key/);

    const rows = await pool.query<{ n: number }>('SELECT n FROM tx_rows ORDER BY n');
    expect(rows.rows.map((row) => row.n)).toEqual([1]);
    expect(pool.health()).toMatchObject({ waitingCount: 0, status: 'up' });
    expect(pool.health().idleCount).toBe(pool.health().totalCount);
  });

  it('runs a transaction at the isolation level asked', async () => {
    const pool = testPool(url);
    const level = await pool.withTransaction(
      async (tx) => (await tx.query<{ level: string }>('SHOW transaction_isolation')).rows[0],
      { isolation: 'serializable' },
    );
    expect(level).toEqual({ transaction_isolation: 'serializable' });
  });

  it('closes idempotently, leaving no open handles; a closed pool refuses work', async () => {
    const baseline = activeHandles();
    // Timers and sockets made by the pool or pg while it lives: none may outlive close().
    const made = new Map<number, string>();
    const hook = createHook({
      init(id, type) {
        const stack = new Error().stack ?? '';
        if (/node_modules\/pg|intelligence\/database/.test(stack)) made.set(id, type);
      },
      destroy(id) {
        made.delete(id);
      },
    }).enable();
    const pool = new DatabasePool({ connectionString: url, poolSize: 3 });
    try {
      await Promise.all([1, 2, 3].map(() => pool.query('SELECT pg_sleep(0.05)')));
      expect(pool.health().totalCount).toBe(3);
      const sockets = (handles: Record<string, number>) => handles.TCPSocketWrap ?? 0;
      expect(sockets(activeHandles())).toBe(sockets(baseline) + 3);
      expect([...made.values()].filter((type) => type === 'TCPWRAP')).toHaveLength(3);
      const first = pool.close();
      expect(pool.close()).toBe(first);
      await first;
      await pool.close();
      expect(pool.health()).toMatchObject({ status: 'closed', totalCount: 0 });
      await expect(pool.query('SELECT 1')).rejects.toThrow(DatabaseClosedError);
      await expect(pool.withTransaction(() => Promise.resolve())).rejects.toThrow(
        DatabaseClosedError,
      );
      const left = () =>
        [...made.values()].filter((type) => type === 'Timeout' || type.startsWith('TCP'));
      await waitFor(() => left().length === 0, `the pool's timers and sockets to go`, 5_000);
      expect(sockets(activeHandles())).toBeLessThanOrEqual(sockets(baseline));
    } finally {
      hook.disable();
    }
  });

  it('closes at once when it never connected, even to a server that is not there', async () => {
    const never = new DatabasePool({ connectionString: 'postgres://u:p@127.0.0.1:1/none' });
    const started = Date.now();
    await never.close();
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('bounds close() by closeTimeoutMs when a transaction never finishes', async () => {
    const pool = new DatabasePool({ connectionString: url, closeTimeoutMs: 300 });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const stuck = pool.withTransaction(async (tx) => {
      await tx.query('SELECT 1');
      entered();
      await new Promise((resolve) => setTimeout(resolve, 5_000).unref());
      await tx.query('SELECT 2');
    });
    stuck.catch(() => {});
    await inside;
    const started = Date.now();
    await pool.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(pool.health().totalCount).toBe(0);
  });

  it('never shows a password: not in health, not in the sanitizer output', async () => {
    const logs = captureLogs();
    try {
      const password = new URL(url).password;
      const wrong = new URL(url);
      wrong.password = 'Sup3r-Secret-Pw-77';
      const refused = testPool(wrong.toString());
      await expect(refused.query('SELECT 1')).rejects.toThrow(/password authentication failed/);
      const pool = testPool(url);
      // The server quotes the bad value back: the URL with its password lands in the error.
      await expect(pool.query('SELECT $1::int', [url])).rejects.toThrow(/invalid input syntax/);
      const sanitizer = new LogSanitizer();
      const texts = [
        JSON.stringify(refused.health()),
        JSON.stringify(pool.health()),
        refused.target,
        pool.target,
        sanitizer.sanitize(`connecting to ${url} and ${wrong.toString()}`),
        sanitizer.sanitize(`host=127.0.0.1 dbname=x user=postgres password=${password}`),
        logs.text(),
      ].join('\n');
      expect(refused.health()).toMatchObject({ status: 'down', lastError: { connection: true } });
      expect(pool.health().lastError?.message).toContain('[REDACTED]');
      expect(texts).not.toContain(password);
      expect(texts).not.toContain('Sup3r-Secret-Pw-77');
    } finally {
      logs.restore();
    }
  });

  describe('when the server goes down and comes back', () => {
    let own: PostgresHandle;
    beforeAll(async () => {
      own = await startPostgres();
    }, 120_000);
    afterAll(async () => {
      await own.cleanup();
    });

    it('reports the error in health, then works again after the restart', async () => {
      const pool = testPool(own.url, { connectTimeoutMs: 1_000 });
      await pool.query('SELECT 1');
      expect(pool.health().status).toBe('up');

      await own.stop();
      // The idle connection is terminated by the shutdown: reported without any statement.
      await waitFor(() => pool.health().status === 'down', 'the dropped connection in health');
      await expect(pool.query('SELECT 1')).rejects.toThrow();
      await expect(pool.ping()).rejects.toThrow();
      const down = pool.health();
      expect(down).toMatchObject({ status: 'down', lastError: { connection: true } });
      expect(down.errors).toBeGreaterThanOrEqual(2);

      await own.start();
      await pool.ping();
      expect(pool.health()).toMatchObject({ status: 'up' });
      await pool.withTransaction(async (tx) => {
        await tx.query('SELECT 1');
      });
    });
  });
});
