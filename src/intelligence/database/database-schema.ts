import type { DatabaseClient } from './database-client.interface.js';
import { DatabaseSchemaError, type SchemaProblems } from './database.errors.js';

/** node-pg-migrate's bookkeeping table (one row per applied migration). */
export const MIGRATIONS_TABLE = 'intelligence_migrations';

export const IDEMPOTENCY_TABLE = 'intelligence_idempotency_keys';
export const PATTERNS_TABLE = 'intelligence_patterns';

/** The last migration shipped in `migrations/`: the schema this version of the package needs. */
export const EXPECTED_MIGRATION = '1796190000000_create-intelligence-tables';

/** Every table the shipped migrations create, plus the bookkeeping table. */
export const REQUIRED_TABLES: readonly string[] = [
  IDEMPOTENCY_TABLE,
  PATTERNS_TABLE,
  MIGRATIONS_TABLE,
];

export interface SchemaStatus extends SchemaProblems {
  /** Tables present and the expected migration applied. */
  ready: boolean;
  /** Migrations applied after the expected one (a newer version of the package migrated). */
  newerMigrations: string[];
}

/**
 * What the schema looks like now (tables found through the `search_path`), without judging.
 * `requiredTables` defaults to every table of the shipped migrations.
 */
export async function inspectSchema(
  client: DatabaseClient,
  requiredTables: readonly string[] = REQUIRED_TABLES,
  expectedMigration = EXPECTED_MIGRATION,
): Promise<SchemaStatus> {
  const tables = await client.query<{ name: string }>(
    'SELECT t.name FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n) ' +
      'WHERE to_regclass(t.name) IS NULL ORDER BY t.n',
    [[...requiredTables]],
  );
  const missingTables = tables.rows.map((row) => row.name);
  let applied: string[] = [];
  if (!missingTables.includes(MIGRATIONS_TABLE)) {
    const rows = await client.query<{ name: string }>(
      `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY run_on, id`,
    );
    applied = rows.rows.map((row) => row.name);
  }
  const index = applied.indexOf(expectedMigration);
  return {
    ready: missingTables.length === 0 && index !== -1,
    missingTables,
    expectedMigration,
    foundMigration: applied.at(-1) ?? null,
    newerMigrations: index === -1 ? [] : applied.slice(index + 1),
  };
}

/**
 * Passes when the required tables exist and the expected migration was applied (later ones
 * are allowed: a rolling upgrade migrates before the old instances stop); else rejects with a
 * `DatabaseSchemaError` naming the missing tables and the expected and found migrations.
 */
export async function checkSchema(
  client: DatabaseClient,
  requiredTables: readonly string[] = REQUIRED_TABLES,
): Promise<SchemaStatus> {
  const status = await inspectSchema(client, requiredTables);
  if (!status.ready) throw new DatabaseSchemaError(status);
  return status;
}
