import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { DatabaseClient } from '../database/database-client.interface.js';
import { IDEMPOTENCY_TABLE } from '../database/database-schema.js';
import type { DatabaseTransaction } from '../database/database-transaction.js';
import {
  DEFAULT_IDEMPOTENCY_RETENTION_MS,
  type IdempotencyRetentionOptions,
} from '../database/database.options.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import { IdempotencyStore, type IdempotencyScope } from './idempotency-store.js';

/** Longer keys are stored as their SHA-256 (a btree entry must stay well under 2.7 kB). */
const MAX_KEY_LENGTH = 256;

const SEEN = {
  name: 'intelligence-idempotency-seen',
  text:
    `SELECT 1 FROM ${IDEMPOTENCY_TABLE} ` +
    'WHERE consumer_group = $1 AND handler = $2 AND idempotency_key = $3 AND expires_at > now()',
};

// An expired row that was not purged yet is taken over; a live one is left alone (no row back).
const RECORD = {
  name: 'intelligence-idempotency-record',
  text:
    `INSERT INTO ${IDEMPOTENCY_TABLE} AS k ` +
    '(consumer_group, handler, idempotency_key, recorded_at, expires_at) ' +
    "VALUES ($1, $2, $3, now(), now() + $4::double precision * interval '1 millisecond') " +
    'ON CONFLICT (consumer_group, handler, idempotency_key) DO UPDATE ' +
    'SET recorded_at = EXCLUDED.recorded_at, expires_at = EXCLUDED.expires_at ' +
    'WHERE k.expires_at <= now() RETURNING 1',
};

// Other instances purging at the same time skip the rows this one holds.
const PURGE = {
  name: 'intelligence-idempotency-purge',
  text:
    `DELETE FROM ${IDEMPOTENCY_TABLE} WHERE ctid = ANY (ARRAY(` +
    `SELECT ctid FROM ${IDEMPOTENCY_TABLE} WHERE expires_at <= now() ` +
    'LIMIT $1 FOR UPDATE SKIP LOCKED))',
};

/**
 * The durable `IdempotencyStore`: one row per key in `intelligence_idempotency_keys`, shared by
 * every instance of the consumer group and kept across restarts. A record lives for
 * `retentionMs` (default 7 days, Kafka's default log retention); expired rows count as absent
 * and are deleted in bounded batches, at most every `purgeIntervalMs`, by a `record()`.
 * Borrows its client (a `DatabasePool`): close the store before the pool.
 */
export class PostgresIdempotencyStore extends IdempotencyStore {
  private readonly logger = new Logger('PostgresIdempotencyStore');
  private readonly options: Required<IdempotencyRetentionOptions>;
  private nextPurgeAt = 0;
  private purging: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly db: DatabaseClient,
    options: IdempotencyRetentionOptions = {},
    private readonly sanitizer = new LogSanitizer(),
  ) {
    super();
    this.options = {
      retentionMs: options.retentionMs ?? DEFAULT_IDEMPOTENCY_RETENTION_MS,
      purgeIntervalMs: options.purgeIntervalMs ?? 10 * 60 * 1000,
      purgeBatchSize: options.purgeBatchSize ?? 1_000,
      purgeMaxBatches: options.purgeMaxBatches ?? 20,
    };
  }

  get retentionMs(): number {
    return this.options.retentionMs;
  }

  async seen(scope: IdempotencyScope, key: string): Promise<boolean> {
    const result = await this.db.query({
      ...SEEN,
      values: [scope.groupId, scope.handler, storedKey(key)],
    });
    return (result.rowCount ?? 0) > 0;
  }

  async record(scope: IdempotencyScope, key: string, tx?: DatabaseTransaction): Promise<boolean> {
    const result = await (tx ?? this.db).query({
      ...RECORD,
      values: [scope.groupId, scope.handler, storedKey(key), this.options.retentionMs],
    });
    this.purgeWhenDue();
    return (result.rowCount ?? 0) > 0;
  }

  /**
   * Deletes expired records, `purgeBatchSize` rows per statement, until a statement deletes
   * fewer or `purgeMaxBatches` ran. Resolves to the number of rows deleted.
   */
  async purgeExpired(): Promise<number> {
    let deleted = 0;
    for (let batch = 0; batch < this.options.purgeMaxBatches; batch += 1) {
      const result = await this.db.query({ ...PURGE, values: [this.options.purgeBatchSize] });
      const count = result.rowCount ?? 0;
      deleted += count;
      if (count < this.options.purgeBatchSize) break;
    }
    return deleted;
  }

  /** Waits for a purge in progress; no purge starts after this. */
  override async close(): Promise<void> {
    this.closed = true;
    await this.purging;
  }

  private purgeWhenDue(): void {
    const now = Date.now();
    if (this.closed || this.purging || now < this.nextPurgeAt) return;
    this.nextPurgeAt = now + this.options.purgeIntervalMs;
    this.purging = this.purgeExpired().then(
      (deleted) => {
        this.purging = undefined;
        if (deleted > 0) this.logger.debug({ msg: 'Expired idempotency records purged', deleted });
      },
      (error: unknown) => {
        this.purging = undefined;
        this.logger.warn({
          msg: 'Purging expired idempotency records failed; retried at the next interval',
          error: this.sanitizer.describeError(error),
        });
      },
    );
  }
}

function storedKey(key: string): string {
  return key.length <= MAX_KEY_LENGTH
    ? key
    : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}
