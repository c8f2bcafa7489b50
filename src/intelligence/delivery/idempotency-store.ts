import type { DatabaseTransaction } from '../database/database-transaction.js';

/**
 * Whose keys: one consumer group's one handler. Make it once per handler (when the routes
 * load) and pass the same object every time: the in-memory store then finds its window by
 * identity, without building a string per message.
 */
export interface IdempotencyScope {
  readonly groupId: string;
  /** The handler's name (`Class.method`). */
  readonly handler: string;
}

/**
 * Where the idempotency keys of handled messages are remembered (the port; the default is
 * `InMemoryIdempotencyStore`, the durable one `PostgresIdempotencyStore`). A handler with an
 * `idempotencyKey` is skipped when `seen()` says its key was recorded for its scope; the key
 * is recorded only after the handler succeeded. Records expire after the store's retention.
 *
 * Both methods answer synchronously when they can (a `boolean`) and with a promise only when
 * the answer needs I/O, so the in-memory default costs the dispatch path no promise:
 *
 * ```ts
 * const seen = store.seen(scope, key);
 * if (seen === true || (seen !== false && (await seen))) skip();
 * ```
 */
export abstract class IdempotencyStore {
  /** Whether `key` was recorded for `scope` and has not expired. */
  abstract seen(scope: IdempotencyScope, key: string): boolean | Promise<boolean>;

  /**
   * Records `key` as handled for `scope`, for the store's retention. With `tx`, the record
   * is part of that transaction: committed with it or not at all (so a handler's own writes
   * and its key land together). Resolves `false` when a live record existed already: inside
   * a transaction that means another delivery of the same message committed first, and the
   * caller must roll back rather than apply it twice.
   */
  abstract record(
    scope: IdempotencyScope,
    key: string,
    tx?: DatabaseTransaction,
  ): boolean | Promise<boolean>;

  /** Stops the store's background work (a purge running). Does not close a borrowed pool. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
