import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  DatabaseClient,
  QueryConfig,
  QueryResult,
  QueryResultRow,
} from '../database/database-client.interface.js';
import { migrate } from '../database/database-migrations.js';
import { DatabasePool, type DatabaseHealth } from '../database/database-pool.js';
import type { DatabaseTransaction } from '../database/database-transaction.js';
import { PostgresIdempotencyStore } from '../delivery/postgres-idempotency.store.js';
import { INTELLIGENCE_CONFIG, type IntelligenceConfig } from '../intelligence.config.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';

/** A statement on the module's database while no wiring holds it open. */
export class DatabaseNotWiredError extends Error {
  override readonly name = 'DatabaseNotWiredError';
}

/**
 * The module's PostgreSQL resource across wirings (with `database` options; without, it holds
 * nothing and `configured` is false). Each wiring opens a pool, applies the migrations when
 * `migrateOnBoot` says so, runs the schema handshake and makes the idempotency store; the
 * shared cleanup closes them, on a failed wiring as on shutdown. Injectable anywhere as a
 * `DatabaseClient` (a node's store queries through it): statements go to the current pool.
 */
@Injectable()
export class IntelligenceDatabase implements DatabaseClient {
  private readonly logger = new Logger('IntelligenceDatabase');
  private pool: DatabasePool | undefined;
  private store: PostgresIdempotencyStore | undefined;
  /** The last pool's health, kept after it closed (what a failed wiring ran into). */
  private lastHealth: DatabaseHealth | undefined;
  /** Statements of the pools closed before the current one. */
  private readonly closed = { queries: 0, errors: 0 };

  constructor(
    @Inject(INTELLIGENCE_CONFIG) private readonly config: IntelligenceConfig,
    @Inject(LogSanitizer) private readonly sanitizer: LogSanitizer,
  ) {}

  get configured(): boolean {
    return this.config.database !== undefined;
  }

  /** The idempotency store of the current wiring (PostgreSQL), if a database is open. */
  get idempotencyStore(): PostgresIdempotencyStore | undefined {
    return this.store;
  }

  /**
   * Opens the pool, migrates (with `migrateOnBoot`) and checks the schema; rejects with a
   * `DatabaseSchemaError` naming what is missing, or the connection error (sanitized by
   * whoever logs it). The pool stays held either way: the cleanup closes it.
   */
  async open(): Promise<void> {
    const options = this.config.database;
    if (!options) return;
    const pool = new DatabasePool(options, this.sanitizer);
    this.pool = pool;
    if (pool.config.migrateOnBoot) {
      const run = await migrate(pool, { sanitizer: this.sanitizer });
      if (run.applied.length > 0) {
        this.logger.log({ msg: 'Database migrated', target: pool.target, applied: run.applied });
      }
    }
    await pool.handshake();
    this.store = new PostgresIdempotencyStore(pool, pool.config.idempotency, this.sanitizer);
  }

  /** Closes the store, then the pool; safe when nothing is open. */
  async close(): Promise<void> {
    const { pool, store } = this;
    this.store = undefined;
    this.pool = undefined;
    await store?.close();
    if (!pool) return;
    try {
      await pool.close();
    } finally {
      this.lastHealth = pool.health();
      this.closed.queries += this.lastHealth.queries;
      this.closed.errors += this.lastHealth.errors;
    }
  }

  /** Statements run and failed on every pool of this process (for counters that only grow). */
  totals(): { queries: number; errors: number } {
    const live = this.pool?.health();
    return {
      queries: this.closed.queries + (live?.queries ?? 0),
      errors: this.closed.errors + (live?.errors ?? 0),
    };
  }

  /** The pool's live health, else the last one's (status `closed`); undefined without a database. */
  health(): DatabaseHealth | undefined {
    return this.pool?.health() ?? this.lastHealth;
  }

  query<R extends QueryResultRow = QueryResultRow>(
    text: string | QueryConfig,
    values?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    return this.current().query<R>(text, values);
  }

  withTransaction<T>(fn: (tx: DatabaseTransaction) => Promise<T>): Promise<T> {
    return this.current().withTransaction(fn);
  }

  private current(): DatabasePool {
    if (this.pool) return this.pool;
    throw new DatabaseNotWiredError(
      this.configured
        ? 'The database is not open: the module is not wired (see its health)'
        : 'No database is configured: set the `database` option of IntelligenceModule',
    );
  }
}
