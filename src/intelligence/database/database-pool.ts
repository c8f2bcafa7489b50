import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import type {
  DatabaseClient,
  QueryConfig,
  QueryResult,
  QueryResultRow,
} from './database-client.interface.js';
import { DatabaseClosedError } from './database.errors.js';
import {
  resolveDatabaseConfig,
  type DatabaseConfig,
  type DatabaseOptions,
} from './database.options.js';
import { checkSchema, REQUIRED_TABLES, type SchemaStatus } from './database-schema.js';
import { DatabaseStats, type DatabaseError, type DatabaseReachability } from './database-stats.js';
import { describeTarget } from './database-target.js';
import { DatabaseTransaction } from './database-transaction.js';

/** What the health indicator and the metrics show of the pool. */
export interface DatabaseHealth {
  /** `closed` after `close()`; else whether the server answered last time (see `DatabaseReachability`). */
  status: DatabaseReachability | 'closed';
  /** Where it points, without credentials: `host:port/database`. */
  target: string;
  /** Connections open (idle and checked out). */
  totalCount: number;
  idleCount: number;
  /** Callers waiting for a connection. */
  waitingCount: number;
  maxConnections: number;
  /** Statements run, and those that failed (plus connection errors outside a statement). */
  queries: number;
  errors: number;
  lastError?: DatabaseError;
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

/**
 * The module's PostgreSQL resource: a `pg` Pool with counters, a schema handshake,
 * transactions and a bounded, idempotent `close()`. Connects lazily (the first statement
 * opens the first connection), so building one never fails on an unreachable server.
 */
export class DatabasePool implements DatabaseClient {
  readonly config: DatabaseConfig;
  /** `host:port/database`: what logs may say about the connection. */
  readonly target: string;
  private readonly pool: Pool;
  private readonly stats: DatabaseStats;
  private readonly checkedOut = new Set<PoolClient>();
  private closing: Promise<void> | undefined;

  constructor(
    options: DatabaseOptions,
    private readonly sanitizer: LogSanitizer = new LogSanitizer(),
  ) {
    this.config = resolveDatabaseConfig(options);
    this.target = describeTarget(this.config.connection);
    this.stats = new DatabaseStats(sanitizer);
    this.pool = new Pool(poolConfig(this.config));
    // An idle connection that drops (server restart, network) is reported here; without a
    // listener it would crash the process.
    this.pool.on('error', (error) => {
      this.stats.failed(error);
    });
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Runs one statement on any free connection. */
  query<R extends QueryResultRow = QueryResultRow>(
    text: string | QueryConfig,
    values?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    if (this.closing) return Promise.reject(new DatabaseClosedError('The database pool is closed'));
    const config = typeof text === 'string' ? { text, values: values as unknown[] } : text;
    return this.stats.track(this.pool.query<R>(config));
  }

  /**
   * Runs `fn` in a transaction on one connection: COMMIT when it resolves, ROLLBACK when it
   * throws (the error is passed on). Statements of `fn` must go through `tx`, not the pool.
   */
  async withTransaction<T>(
    fn: (tx: DatabaseTransaction) => Promise<T>,
    options: { isolation?: IsolationLevel } = {},
  ): Promise<T> {
    const connection = await this.connect();
    const tx = new DatabaseTransaction(connection, this.stats);
    let broken: Error | undefined;
    try {
      const begin = options.isolation ? `BEGIN ISOLATION LEVEL ${options.isolation}` : 'BEGIN';
      await this.stats.track(connection.query(begin)).catch((error: unknown) => {
        tx.settle('rolled-back');
        broken = asError(error);
        throw error;
      });
      let result: T;
      try {
        result = await fn(tx);
      } catch (error) {
        tx.settle('rolled-back');
        await this.stats.track(connection.query('ROLLBACK')).catch((rollbackError: unknown) => {
          broken = asError(rollbackError);
        });
        throw error;
      }
      try {
        await this.stats.track(connection.query('COMMIT'));
      } catch (error) {
        tx.settle('rolled-back');
        broken = asError(error);
        throw error;
      }
      tx.settle('committed');
      return result;
    } finally {
      this.release(connection, broken);
    }
  }

  /** One round trip (`SELECT 1`): rejects when the server cannot be reached. */
  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  /**
   * Checks that the required tables exist and the expected migration was applied; rejects
   * with a `DatabaseSchemaError` that names what is missing.
   */
  handshake(requiredTables: readonly string[] = REQUIRED_TABLES): Promise<SchemaStatus> {
    return checkSchema(this, requiredTables);
  }

  health(): DatabaseHealth {
    const health: DatabaseHealth = {
      status: this.closing ? 'closed' : this.stats.reachability,
      target: this.target,
      totalCount: this.pool.totalCount,
      idleCount: this.pool.idleCount,
      waitingCount: this.pool.waitingCount,
      maxConnections: this.config.poolSize,
      queries: this.stats.queries,
      errors: this.stats.errors,
    };
    if (this.stats.lastError) health.lastError = { ...this.stats.lastError };
    return health;
  }

  /**
   * Closes every connection; safe to call again (same promise) and on a pool that never
   * connected. Waits up to `closeTimeoutMs` for checked-out connections (transactions
   * running), then ends them.
   */
  close(): Promise<void> {
    this.closing ??= this.end();
    return this.closing;
  }

  /** @internal A connection of its own, with its errors recorded (migrations use it). */
  async connect(): Promise<PoolClient> {
    if (this.closing) throw new DatabaseClosedError('The database pool is closed');
    let connection: PoolClient;
    try {
      connection = await this.pool.connect();
    } catch (error) {
      this.stats.failed(error);
      throw error;
    }
    connection.on('error', this.onCheckedOutError);
    this.checkedOut.add(connection);
    return connection;
  }

  /** @internal Gives back a connection of `connect()`; a broken one is closed, not reused. */
  release(connection: PoolClient, broken?: Error): void {
    if (!this.checkedOut.delete(connection)) return;
    connection.off('error', this.onCheckedOutError);
    connection.release(broken);
  }

  private readonly onCheckedOutError = (error: Error): void => {
    this.stats.failed(error);
  };

  private async end(): Promise<void> {
    const ended = this.pool.end();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      ended.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => {
          resolve(true);
        }, this.config.closeTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    // Transactions still running past the deadline lose their connection (they roll back).
    for (const connection of [...this.checkedOut]) {
      this.release(connection, new DatabaseClosedError('The database pool was closed'));
    }
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
  }
}

function poolConfig(config: DatabaseConfig): PoolConfig {
  return {
    ...config.connection,
    max: config.poolSize,
    idleTimeoutMillis: config.idleTimeoutMs,
    connectionTimeoutMillis: config.connectTimeoutMs,
    statement_timeout: config.statementTimeoutMs,
    application_name: config.applicationName,
    keepAlive: true,
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
