/** What the handshake found wrong with the schema. */
export interface SchemaProblems {
  /** Required tables that do not exist. */
  missingTables: string[];
  /** The migration this version of the package expects to be applied. */
  expectedMigration: string;
  /** The last migration applied, or `null` when none (or no bookkeeping table). */
  foundMigration: string | null;
}

/**
 * The database is reachable but its schema is not the one this package needs: tables are
 * missing or the expected migration was not applied. The message names what is wrong.
 */
export class DatabaseSchemaError extends Error {
  override readonly name = 'DatabaseSchemaError';
  readonly missingTables: string[];
  readonly expectedMigration: string;
  readonly foundMigration: string | null;

  constructor(problems: SchemaProblems) {
    const parts: string[] = [];
    if (problems.missingTables.length > 0) {
      parts.push(`missing tables ${problems.missingTables.join(', ')}`);
    }
    parts.push(
      `expected migration ${problems.expectedMigration}, found ${problems.foundMigration ?? 'none'}`,
    );
    super(
      `Database schema is not ready: ${parts.join('; ')}. ` +
        'Run `npm run db:migrate` (or set database.migrateOnBoot).',
    );
    this.missingTables = [...problems.missingTables];
    this.expectedMigration = problems.expectedMigration;
    this.foundMigration = problems.foundMigration;
  }
}

/** A query or transaction on a pool after `close()`. */
export class DatabaseClosedError extends Error {
  override readonly name = 'DatabaseClosedError';
}

/** `query()` on a transaction after it committed or rolled back. */
export class TransactionClosedError extends Error {
  override readonly name = 'TransactionClosedError';
}

/** SQLSTATE classes that mean the server is unreachable or refused us, not a bad statement. */
const CONNECTION_STATES = /^(?:08|28|53|57P0|3D000)/;

/**
 * Whether `error` says the database cannot be used (unreachable, down, refusing, auth,
 * out of connections) rather than that one statement failed (syntax, constraint, timeout).
 */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && severity !== undefined;
  return !sqlState || CONNECTION_STATES.test(code);
}
