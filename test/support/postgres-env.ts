import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from '@jest/globals';
import pg from 'pg';
import { startPostgres, type PostgresHandle } from '../../scripts/postgres/server.mjs';
import { DatabasePool } from '../../src/intelligence/database/database-pool.js';
import type { DatabaseOptions } from '../../src/intelligence/database/database.options.js';
import { migrate } from '../../src/intelligence/database/database-migrations.js';

export interface DatabaseServer {
  /** URL of the server's default database (`DATABASE_URL`). */
  url(): string;
  /** A new, empty database on the server: its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** A new database with the shipped migrations applied: its URL. */
  migratedDatabase(prefix?: string): Promise<string>;
}

/**
 * The PostgreSQL server of this suite: the one the global setup started (`DATABASE_URL`), or,
 * when the suite runs without that setup, one started for this file (and stopped after it).
 * Call at the top of a describe block. After the suite, the `testPool`s are closed and the
 * databases it made are dropped.
 */
export function useDatabaseServer(): DatabaseServer {
  let own: PostgresHandle | undefined;
  const created: string[] = [];
  beforeAll(async () => {
    if (process.env.DATABASE_URL) return;
    own = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await closeTestPools();
    if (own) {
      await own.cleanup();
      return;
    }
    // On a server that outlives the suite, the suite's databases go with it.
    await adminQueries(
      url(),
      created.map((name) => `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
    );
  }, 60_000);
  const url = () => {
    const found = own?.url ?? process.env.DATABASE_URL;
    if (!found) throw new Error('DATABASE_URL is not set and no server was started');
    return found;
  };
  const createDatabase = async (prefix = 'test') => {
    const name = `${prefix}_${randomBytes(5).toString('hex')}`;
    await adminQueries(url(), [`CREATE DATABASE ${pg.escapeIdentifier(name)}`]);
    created.push(name);
    return withDatabase(url(), name);
  };
  return {
    url,
    createDatabase,
    migratedDatabase: async (prefix) => {
      const created = await createDatabase(prefix);
      await migrate(created, { log: () => {} });
      return created;
    },
  };
}

async function adminQueries(url: string, statements: readonly string[]): Promise<void> {
  if (statements.length === 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

/** `url` pointing at database `name` instead. */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

/** Pools made by `testPool`, closed by `closeTestPools`. */
const pools = new Set<DatabasePool>();

/** A pool tuned for tests (short timeouts); close them all with `closeTestPools()`. */
export function testPool(url: string, options: Omit<DatabaseOptions, 'connectionString'> = {}) {
  const pool = new DatabasePool({
    connectionString: url,
    poolSize: 5,
    connectTimeoutMs: 3_000,
    closeTimeoutMs: 2_000,
    ...options,
  });
  pools.add(pool);
  return pool;
}

export async function closeTestPools(): Promise<void> {
  await Promise.all([...pools].map((pool) => pool.close()));
  pools.clear();
}
