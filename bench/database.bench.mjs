// What the PostgreSQL resource costs and gains, each against a baseline in the same run:
//   a) PostgresPatternStore upserts per second, batched (upsertMany, 25 a batch) vs one by one;
//   b) the idempotency check's added cost per message, PostgresIdempotencyStore vs the
//      in-memory store (the engine's default window).
// Interleaved rounds, medians. Starts its own PostgreSQL (scripts/postgres/server.mjs, with
// durable settings) unless DATABASE_URL is set; then it makes a fresh database there for the run.
//
//   npm run bench:database
//
// Env: DATABASE_URL, BENCH_PATTERNS (1000 per pass), BENCH_ROUNDS (5),
// BENCH_IDEMPOTENCY_MEMORY (200000 messages per pass), BENCH_IDEMPOTENCY_DB (3000).
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import { startPostgres } from '../scripts/postgres/server.mjs';
import { DatabasePool } from '../dist/intelligence/database/database-pool.js';
import { migrate } from '../dist/intelligence/database/database-migrations.js';
import { envInt, runBench } from './support/bench-stats.mjs';
import { benchIdempotency } from './support/database-idempotency.mjs';
import { benchPatternUpserts } from './support/database-patterns.mjs';

const SETTINGS = {
  patterns: envInt('BENCH_PATTERNS', 1_000),
  rounds: envInt('BENCH_ROUNDS', 5),
  memoryMessages: envInt('BENCH_IDEMPOTENCY_MEMORY', 200_000),
  databaseMessages: envInt('BENCH_IDEMPOTENCY_DB', 3_000),
};

/** A database of its own for the run: on DATABASE_URL's server, or on a server started here. */
async function acquireDatabase() {
  const given = process.env.DATABASE_URL;
  if (!given) {
    // Durable settings (fsync and synchronous commit on), as a deployed server has them.
    const server = await startPostgres({ ephemeral: false });
    return { url: server.url, where: `own server on port ${server.port}`, cleanup: server.cleanup };
  }
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: given });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  await admin.end();
  const url = new URL(given);
  url.pathname = `/${name}`;
  const cleanup = async () => {
    const client = new pg.Client({ connectionString: given });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await client.end();
  };
  return { url: url.toString(), where: `database ${name} on DATABASE_URL's server`, cleanup };
}

async function main() {
  Logger.overrideLogger(process.env.BENCH_LOGS ? ['error', 'warn'] : false);
  const started = performance.now();
  console.log('PostgreSQL resource: pattern upserts and the idempotency check, same run');
  console.log(`  node: ${process.version}, ${availableParallelism()} CPUs`);
  const database = await acquireDatabase();
  const stop = () => {
    database.cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const pool = new DatabasePool({ connectionString: database.url, poolSize: 10 });
  try {
    await migrate(pool, { log: () => {} });
    const version = (await pool.query('SHOW server_version')).rows[0]?.server_version;
    console.log(`  PostgreSQL ${version} (${database.where}), loopback, pool of 10`);
    await benchPatternUpserts(pool, SETTINGS);
    await benchIdempotency(pool, SETTINGS);
    const health = pool.health();
    console.log(`\n  ${health.queries} statements, ${health.errors} errors`);
    if (health.errors > 0) throw new Error(`statements failed: ${health.lastError?.message}`);
  } finally {
    await pool.close();
    await database.cleanup();
  }
  console.log(`\nTotal run time ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await runBench(main);
