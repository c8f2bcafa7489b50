import { fileURLToPath } from 'node:url';
import { Logger } from '@nestjs/common';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import { DatabasePool } from './database-pool.js';
import { MIGRATIONS_TABLE } from './database-schema.js';
import type { DatabaseOptions } from './database.options.js';

/**
 * The `.sql` migrations shipped with the package (`<package>/migrations`: the same three
 * levels up from `src/intelligence/database/` and from `dist/intelligence/database/`).
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

export interface MigrateOptions {
  /** @default 'up' */
  direction?: 'up' | 'down';
  /** How many to run: every pending one up, the last applied one down. */
  count?: number;
  /** Folder of the migration files. @default MIGRATIONS_DIR */
  dir?: string;
  /** Progress lines, sanitized. @default Nest's Logger at debug, context `DatabaseMigrations` */
  log?: (line: string) => void;
  sanitizer?: LogSanitizer;
}

export interface MigrationRun {
  direction: 'up' | 'down';
  /** Names of the migrations run now, in the order they ran (none: the schema was current). */
  applied: string[];
}

/**
 * Applies the shipped migrations with node-pg-migrate, under its advisory lock (instances
 * migrating at once wait for each other, then find nothing left to do) and in one
 * transaction. `target` is a connection string, pool options (a pool of one connection is
 * made and closed) or a `DatabasePool` (one of its connections is borrowed).
 */
export async function migrate(
  target: string | DatabaseOptions | DatabasePool,
  options: MigrateOptions = {},
): Promise<MigrationRun> {
  const sanitizer = options.sanitizer ?? new LogSanitizer();
  const ownPool =
    target instanceof DatabasePool
      ? undefined
      : new DatabasePool(
          typeof target === 'string'
            ? { connectionString: target, poolSize: 1 }
            : { ...target, poolSize: 1 },
          sanitizer,
        );
  const pool = ownPool ?? (target as DatabasePool);
  try {
    return await runMigrations(pool, options, sanitizer);
  } finally {
    await ownPool?.close();
  }
}

async function runMigrations(
  pool: DatabasePool,
  options: MigrateOptions,
  sanitizer: LogSanitizer,
): Promise<MigrationRun> {
  // Loaded when used: an app without a database never loads the migration tool.
  const { runner } = await import('node-pg-migrate');
  const direction = options.direction ?? 'up';
  const logger = new Logger('DatabaseMigrations');
  const write =
    options.log ??
    ((line: string) => {
      logger.debug(line);
    });
  const log = (line: string) => {
    write(sanitizer.sanitize(line));
  };
  const connection = await pool.connect();
  let broken: Error | undefined;
  try {
    const ran = await runner({
      dbClient: connection,
      dir: options.dir ?? MIGRATIONS_DIR,
      migrationsTable: MIGRATIONS_TABLE,
      direction,
      count: options.count ?? (direction === 'up' ? Number.POSITIVE_INFINITY : 1),
      singleTransaction: true,
      checkOrder: true,
      advisoryLockMode: 'wait',
      logger: { debug: log, info: log, warn: log, error: log },
    });
    return { direction, applied: ran.map((migration) => migration.name) };
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    pool.release(connection, broken);
  }
}
