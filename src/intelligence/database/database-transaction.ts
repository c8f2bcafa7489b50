import { Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type {
  DatabaseClient,
  QueryConfig,
  QueryResult,
  QueryResultRow,
} from './database-client.interface.js';
import { TransactionClosedError } from './database.errors.js';
import type { DatabaseStats } from './database-stats.js';

export type TransactionState = 'open' | 'committed' | 'rolled-back';

/**
 * One transaction on one connection, given to the function of `DatabasePool.withTransaction`:
 * its statements commit together when the function resolves and roll back when it throws.
 * Record an idempotency key with it (`IdempotencyStore.record(scope, key, tx)`) and the key
 * is committed with the handler's own writes, or not at all.
 */
export class DatabaseTransaction implements DatabaseClient {
  private current: TransactionState = 'open';
  private readonly commitCallbacks: (() => void)[] = [];

  /** @internal made by `DatabasePool.withTransaction` only */
  constructor(
    private readonly connection: PoolClient,
    private readonly stats: DatabaseStats,
  ) {}

  get state(): TransactionState {
    return this.current;
  }

  /**
   * The connection itself, for a query builder or ORM that takes a `pg` client. Do not
   * release it, and do not COMMIT or ROLLBACK on it: `withTransaction` does both.
   */
  get client(): PoolClient {
    this.assertOpen();
    return this.connection;
  }

  query<R extends QueryResultRow = QueryResultRow>(
    text: string | QueryConfig,
    values?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    this.assertOpen();
    const config = typeof text === 'string' ? { text, values: values as unknown[] } : text;
    return this.stats.track(this.connection.query<R>(config));
  }

  /**
   * Runs `callback` once the transaction committed (never when it rolls back): for state
   * outside the database that must follow it, such as an in-memory idempotency window.
   */
  onCommit(callback: () => void): void {
    this.assertOpen();
    this.commitCallbacks.push(callback);
  }

  /** @internal called by `withTransaction` */
  settle(state: Exclude<TransactionState, 'open'>): void {
    this.current = state;
    const callbacks = state === 'committed' ? this.commitCallbacks.splice(0) : [];
    this.commitCallbacks.length = 0;
    for (const callback of callbacks) {
      try {
        callback();
      } catch (error) {
        // Committed already: the caller must not take this for a failed transaction.
        new Logger('DatabaseTransaction').warn({
          msg: 'An on-commit callback failed',
          error: this.stats.describe(error),
        });
      }
    }
  }

  private assertOpen(): void {
    if (this.current !== 'open') {
      const state = this.current === 'committed' ? 'committed' : 'rolled back';
      throw new TransactionClosedError(`The transaction is ${state}: it takes no more queries`);
    }
  }
}
