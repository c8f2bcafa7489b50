import { removeStaleServerDirs, startPostgres } from '../../scripts/postgres/server.mjs';

/**
 * Starts one real PostgreSQL server for a test run, unless `DATABASE_URL` names a database
 * already (every project using this setup shares it; a second call finds it set). Specs make
 * their own empty databases on it (test/support/postgres-env.ts).
 * Plain ESM because jest loads global setup files natively.
 */
export default async function postgresGlobalSetup() {
  if (process.env.DATABASE_URL) return;
  const started = Date.now();
  removeStaleServerDirs();
  const server = await startPostgres();
  globalThis.__POSTGRES_SERVER__ = server;
  process.env.DATABASE_URL = server.url;
  process.stdout.write(
    `\nPostgreSQL ready at 127.0.0.1:${server.port} in ${Date.now() - started} ms\n`,
  );
}
