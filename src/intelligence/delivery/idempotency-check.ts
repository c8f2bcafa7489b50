import type { DatabaseTransaction } from '../database/database-transaction.js';
import type { IdempotencyScope, IdempotencyStore } from './idempotency-store.js';

/**
 * Thrown out of `ctx.transaction()` when another delivery of the same message recorded its
 * key first: the transaction is rolled back and the run counts as a skipped duplicate.
 */
export class DuplicateDeliveryError extends Error {
  override readonly name = 'DuplicateDeliveryError';
  constructor() {
    super('Another delivery of this message was handled first; this one was rolled back');
  }
}

/**
 * The idempotency of one handler run: its key is looked up before the run and recorded only
 * after it succeeded, or inside the handler's own transaction (then not again after it).
 * Answers synchronously when the store does (the in-memory default).
 */
export class IdempotencyCheck {
  private recorded = false;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly scope: IdempotencyScope,
    private readonly key: string,
  ) {}

  seen(): boolean | Promise<boolean> {
    return this.store.seen(this.scope, this.key);
  }

  /** Records the key in `tx`; rejects with `DuplicateDeliveryError` when it was there already. */
  async recordIn(tx: DatabaseTransaction): Promise<void> {
    const fresh = await this.store.record(this.scope, this.key, tx);
    if (!fresh) throw new DuplicateDeliveryError();
    this.recorded = true;
  }

  /** Records the key after a successful run, unless its transaction did. */
  record(): unknown {
    if (this.recorded) return undefined;
    this.recorded = true;
    return this.store.record(this.scope, this.key);
  }
}
