import type { ConnectionOptions } from 'node:tls';
import { z } from 'zod';

/** How long idempotency records are kept, and how expired ones are purged. */
export interface IdempotencyRetentionOptions {
  /**
   * A handled message's key is remembered this long: a redelivery within it is skipped.
   * Kafka's default log retention, so no message still on a topic is handled twice.
   * @default 604800000 (7 days)
   */
  retentionMs?: number;
  /** Expired records are purged at most this often, on a `record()`. @default 600000 (10 min) */
  purgeIntervalMs?: number;
  /** Rows deleted per purge statement (a purge runs statements until one deletes fewer). @default 1000 */
  purgeBatchSize?: number;
  /** Statements per purge, so one purge stays short. @default 20 */
  purgeMaxBatches?: number;
}

/**
 * The optional PostgreSQL resource: a connection string or discrete settings (the rest is
 * read by `pg` from the standard `PG*` environment variables), and the pool's limits.
 */
export interface DatabaseOptions {
  /**
   * `postgres://user:password@host:5432/db?sslmode=require` or a libpq keyword string.
   * Never logged: logs and health name only host, port and database.
   */
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** `true` for TLS with the system CAs, or Node TLS options (ca, cert, key, ...). */
  ssl?: boolean | ConnectionOptions;
  /** Connections at most. @default 10 */
  poolSize?: number;
  /** An idle connection is closed after this long. @default 30000 */
  idleTimeoutMs?: number;
  /** Server-side limit of one statement (`statement_timeout`). @default 60000 */
  statementTimeoutMs?: number;
  /** Limit of opening one connection. @default 10000 */
  connectTimeoutMs?: number;
  /** `close()` waits this long for checked-out connections, then ends them. @default 5000 */
  closeTimeoutMs?: number;
  /** `application_name` of the connections. @default 'nestjs-intelligence' */
  applicationName?: string;
  /** Apply the shipped migrations during wiring, before the handshake. @default false */
  migrateOnBoot?: boolean;
  /** The PostgreSQL idempotency store's retention. */
  idempotency?: IdempotencyRetentionOptions;
}

/** `DatabaseOptions` with every default applied. */
export interface DatabaseConfig {
  connection: {
    connectionString?: string;
    host?: string;
    port?: number;
    user?: string;
    password?: string;
    database?: string;
    ssl?: boolean | ConnectionOptions;
  };
  poolSize: number;
  idleTimeoutMs: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  closeTimeoutMs: number;
  applicationName: string;
  migrateOnBoot: boolean;
  idempotency: Required<IdempotencyRetentionOptions>;
}

export const DEFAULT_IDEMPOTENCY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export function resolveDatabaseConfig(options: DatabaseOptions): DatabaseConfig {
  const { connectionString, host, port, user, password, database, ssl } = options;
  const connection = Object.fromEntries(
    Object.entries({ connectionString, host, port, user, password, database, ssl }).filter(
      ([, value]) => value !== undefined,
    ),
  ) as DatabaseConfig['connection'];
  return {
    connection,
    poolSize: options.poolSize ?? 10,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    statementTimeoutMs: options.statementTimeoutMs ?? 60_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    closeTimeoutMs: options.closeTimeoutMs ?? 5_000,
    applicationName: options.applicationName ?? 'nestjs-intelligence',
    migrateOnBoot: options.migrateOnBoot ?? false,
    idempotency: {
      retentionMs: options.idempotency?.retentionMs ?? DEFAULT_IDEMPOTENCY_RETENTION_MS,
      purgeIntervalMs: options.idempotency?.purgeIntervalMs ?? 10 * 60 * 1000,
      purgeBatchSize: options.idempotency?.purgeBatchSize ?? 1_000,
      purgeMaxBatches: options.idempotency?.purgeMaxBatches ?? 20,
    },
  };
}

const positiveInt = z.number().int().positive();

/** Validation of `DatabaseOptions` (for the module's options schema). Values are never echoed. */
export const databaseOptionsSchema = z.object({
  connectionString: z
    .string()
    .min(1)
    .refine((value) => !/^\w+:\/\//.test(value) || /^postgres(?:ql)?:\/\//i.test(value), {
      error: 'must be a postgres:// or postgresql:// URL, or a libpq keyword string',
    })
    .optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65_535).optional(),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  database: z.string().min(1).optional(),
  ssl: z.union([z.boolean(), z.looseObject({})]).optional(),
  poolSize: positiveInt.optional(),
  idleTimeoutMs: positiveInt.optional(),
  statementTimeoutMs: z.number().int().min(0).optional(),
  connectTimeoutMs: positiveInt.optional(),
  closeTimeoutMs: positiveInt.optional(),
  applicationName: z.string().min(1).max(63).optional(),
  migrateOnBoot: z.boolean().optional(),
  idempotency: z
    .object({
      retentionMs: positiveInt.optional(),
      purgeIntervalMs: positiveInt.optional(),
      purgeBatchSize: positiveInt.optional(),
      purgeMaxBatches: positiveInt.optional(),
    })
    .optional(),
});
