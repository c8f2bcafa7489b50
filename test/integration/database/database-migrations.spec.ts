import { readdirSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { DatabaseSchemaError } from '../../../src/intelligence/database/database.errors.js';
import { migrate, MIGRATIONS_DIR } from '../../../src/intelligence/database/database-migrations.js';
import {
  EXPECTED_MIGRATION,
  IDEMPOTENCY_TABLE,
  MIGRATIONS_TABLE,
  PATTERNS_TABLE,
} from '../../../src/intelligence/database/database-schema.js';
import { runMigrateCommand } from '../../../src/intelligence/database/db-migrate.command.js';
import { testPool, useDatabaseServer } from '../../support/postgres-env.js';

describe('database migrations and the schema handshake (real PostgreSQL)', () => {
  const server = useDatabaseServer();

  it('ships the expected migration as the last file of migrations/', () => {
    const files = readdirSync(MIGRATIONS_DIR).sort();
    expect(files.at(-1)).toBe(`${EXPECTED_MIGRATION}.sql`);
  });

  it('fails the handshake naming the missing tables, passes once migrated; migrating again does nothing', async () => {
    const url = await server.createDatabase('migrate');
    const pool = testPool(url);

    const before = await pool.handshake().catch((error: unknown) => error);
    expect(before).toBeInstanceOf(DatabaseSchemaError);
    const schemaError = before as DatabaseSchemaError;
    expect(schemaError.missingTables).toEqual([
      IDEMPOTENCY_TABLE,
      PATTERNS_TABLE,
      MIGRATIONS_TABLE,
    ]);
    expect(schemaError.message).toContain(
      `missing tables ${IDEMPOTENCY_TABLE}, ${PATTERNS_TABLE}, ${MIGRATIONS_TABLE}`,
    );
    expect(schemaError.message).toContain(`expected migration ${EXPECTED_MIGRATION}, found none`);

    expect(await migrate(pool, { log: () => {} })).toEqual({
      direction: 'up',
      applied: [EXPECTED_MIGRATION],
    });
    expect(await pool.handshake()).toMatchObject({
      ready: true,
      missingTables: [],
      foundMigration: EXPECTED_MIGRATION,
      newerMigrations: [],
    });
    expect(await migrate(url, { log: () => {} })).toEqual({ direction: 'up', applied: [] });
    await pool.handshake();
  });

  it('names the expected and the found migration when the schema is behind', async () => {
    const url = await server.migratedDatabase('behind');
    const pool = testPool(url);
    await pool.query(`DELETE FROM ${MIGRATIONS_TABLE}`);
    await pool.query(`INSERT INTO ${MIGRATIONS_TABLE} (name, run_on) VALUES ('0_older', now())`);
    await expect(pool.handshake()).rejects.toThrow(
      `expected migration ${EXPECTED_MIGRATION}, found 0_older`,
    );
    await pool.query(`DROP TABLE ${PATTERNS_TABLE}`);
    await expect(pool.handshake()).rejects.toThrow(`missing tables ${PATTERNS_TABLE};`);
  });

  it('accepts migrations newer than the expected one (a rolling upgrade migrated first)', async () => {
    const url = await server.migratedDatabase('ahead');
    const pool = testPool(url);
    await pool.query(
      `INSERT INTO ${MIGRATIONS_TABLE} (name, run_on) VALUES ('9999999999999_later', now())`,
    );
    expect(await pool.handshake()).toMatchObject({
      ready: true,
      foundMigration: '9999999999999_later',
      newerMigrations: ['9999999999999_later'],
    });
  });

  it('lets instances migrating at the same time wait for each other (advisory lock)', async () => {
    const url = await server.createDatabase('race');
    const runs = await Promise.all([1, 2, 3].map(() => migrate(url, { log: () => {} })));
    expect(runs.flatMap((run) => run.applied)).toEqual([EXPECTED_MIGRATION]);
  });

  it('reverts the last migration down, and applies it up again', async () => {
    const url = await server.migratedDatabase('down');
    expect(await migrate(url, { direction: 'down', log: () => {} })).toEqual({
      direction: 'down',
      applied: [EXPECTED_MIGRATION],
    });
    const pool = testPool(url);
    await expect(pool.handshake()).rejects.toThrow(DatabaseSchemaError);
    expect((await migrate(pool, { log: () => {} })).applied).toEqual([EXPECTED_MIGRATION]);
  });

  it('db:migrate applies, reports by host and database only, and checks the status', async () => {
    const url = await server.createDatabase('cli');
    const out: string[] = [];
    const err: string[] = [];
    const io = (args: string[], env: Record<string, string | undefined> = { DATABASE_URL: url }) =>
      runMigrateCommand({
        env,
        args,
        out: (line) => out.push(line),
        err: (line) => err.push(line),
      });

    expect(await io(['status'])).toBe(1);
    expect(err.join('\n')).toContain('missing tables');
    expect(await io([])).toBe(0);
    expect(out.at(-1)).toMatch(/^127\.0\.0\.1:\d+\/cli_\w+: applied 1796190000000_/);
    expect(await io(['up'])).toBe(0);
    expect(out.at(-1)).toMatch(/: nothing to apply, up to date$/);
    expect(await io(['status'])).toBe(0);
    expect(out.at(-1)).toContain(`schema ready at ${EXPECTED_MIGRATION}`);

    expect(await io([], {})).toBe(2);
    expect(await io(['sideways'])).toBe(2);
    const password = new URL(url).password;
    const wrong = url.replace(password, 'not-the-password-42');
    expect(await io([], { DATABASE_URL: wrong })).toBe(1);
    expect(err.at(-1)).toMatch(/^Migration failed on 127\.0\.0\.1:\d+\/cli_\w+: /);
    expect([...out, ...err].join('\n')).not.toMatch(new RegExp(`${password}|not-the-password-42`));
  });
});
