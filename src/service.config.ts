import { z } from 'zod';
import type { BusOption, KafkaBusOptions, WiringOptions } from './intelligence/index.js';
import { kafkaSsl } from './service-tls.config.js';

/** The service's settings, from environment variables (documented in README.md). */
export interface ServiceConfig {
  serviceName: string;
  /** Address the HTTP server binds (`0.0.0.0` for all interfaces, as in a container). */
  host: string;
  port: number;
  logLevel: string;
  bus: BusOption;
  groupId?: string;
  /** Where a new consumer group starts (the demo on Kafka: only its own run). @default 'earliest' */
  startFrom?: 'earliest' | 'latest';
  /** Maps the nodes' topics (the demo on Kafka: a namespace of its own run). */
  topicMap?: (topic: string) => string;
  heartbeatIntervalMs: number;
  /** Re-wiring after a failure (not from the environment: the module's default; tests shorten it). */
  wiring?: WiringOptions;
  /** PostgreSQL (`DATABASE_URL`): durable patterns and idempotency; unset, both stay in memory. */
  database?: ServiceDatabaseConfig;
}

export interface ServiceDatabaseConfig {
  /** `postgres://` or `postgresql://` URL; a secret: never logged nor echoed. */
  connectionString: string;
  /** Apply the shipped migrations during wiring (`DATABASE_MIGRATE_ON_BOOT`). @default false */
  migrateOnBoot: boolean;
}

/** A bad environment variable: the message names it, never its value. */
export class ServiceConfigError extends Error {
  override readonly name = 'ServiceConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid environment variable ${variable}: ${problem}`);
  }
}

const positiveInt = z.coerce.number().int().positive();
const BROKER = /^[^\s:/,]+:\d{1,5}$/;
const env = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z
    .string()
    .regex(
      /^(?:[0-9a-fA-F:.]+|[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9-]+)*)$/,
      'must be an IP address or a host name',
    )
    .default('127.0.0.1'),
  SERVICE_NAME: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be kebab-case')
    .default('omniintelligence'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: z
    .string()
    .refine(
      (value) =>
        value.trim() === '' ||
        value
          .split(',')
          .map((broker) => broker.trim())
          .every((broker) => BROKER.test(broker)),
      'must be a comma-separated list of host:port',
    )
    .optional(),
  KAFKA_CLIENT: z
    .enum(['kafkajs', 'platformatic'], { error: "must be 'kafkajs' or 'platformatic'" })
    .optional(),
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  KAFKA_GROUP_ID: z.string().min(1).optional(),
  KAFKA_SSL: z.enum(['true', 'false']).optional(),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_PASSPHRASE: z.string().min(1).optional(),
  KAFKA_SSL_SERVERNAME: z.string().min(1).optional(),
  KAFKA_SSL_REJECT_UNAUTHORIZED: z.enum(['true', 'false']).optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  HEARTBEAT_INTERVAL_MS: positiveInt.default(30_000),
  DATABASE_URL: z
    .string()
    .refine(
      (value) => value.trim() === '' || isPostgresUrl(value.trim()),
      'must be a postgres:// or postgresql:// URL',
    )
    .optional(),
  DATABASE_MIGRATE_ON_BOOT: z.enum(['true', 'false']).optional(),
});

/** A parseable URL with the postgres scheme and a host (its value never leaves this check). */
function isPostgresUrl(value: string): boolean {
  if (!/^postgres(?:ql)?:\/\//i.test(value)) return false;
  try {
    return new URL(value).hostname !== '';
  } catch {
    return false;
  }
}

/** SASL needs its mechanism, username and password together. */
function checkSasl(vars: z.infer<typeof env>): void {
  const mechanism = vars.KAFKA_SASL_MECHANISM !== undefined;
  for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
    const set = (vars[name] ?? '') !== '';
    if (mechanism && !set) {
      throw new ServiceConfigError(name, 'must be set (non-empty) with KAFKA_SASL_MECHANISM');
    }
    if (!mechanism && set) {
      throw new ServiceConfigError('KAFKA_SASL_MECHANISM', `must be set with ${name}`);
    }
  }
}

/** Reads and validates the environment; throws naming the bad variable (never its value). */
export function loadServiceConfig(source: NodeJS.ProcessEnv): ServiceConfig {
  const parsed = env.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ServiceConfigError(String(issue?.path[0]), issue?.message ?? 'invalid');
  }
  const vars = parsed.data;
  checkSasl(vars);
  const brokers =
    vars.KAFKA_BROKERS?.split(',')
      .map((broker) => broker.trim())
      .filter(Boolean) ?? [];
  return {
    serviceName: vars.SERVICE_NAME,
    host: vars.HOST,
    port: vars.PORT,
    logLevel: vars.LOG_LEVEL,
    heartbeatIntervalMs: vars.HEARTBEAT_INTERVAL_MS,
    ...(vars.KAFKA_GROUP_ID === undefined ? {} : { groupId: vars.KAFKA_GROUP_ID }),
    bus: brokers.length === 0 ? { kind: 'memory' } : kafkaBus(brokers, vars),
    ...databaseOption(vars),
  };
}

function databaseOption(vars: z.infer<typeof env>): Pick<ServiceConfig, 'database'> {
  const connectionString = vars.DATABASE_URL?.trim() ?? '';
  if (connectionString === '') return {};
  return {
    database: { connectionString, migrateOnBoot: vars.DATABASE_MIGRATE_ON_BOOT === 'true' },
  };
}

function kafkaBus(brokers: string[], vars: z.infer<typeof env>): BusOption {
  // One object literal for the three username/password mechanisms kafkajs types separately.
  const sasl =
    vars.KAFKA_SASL_MECHANISM === undefined
      ? undefined
      : ({
          mechanism: vars.KAFKA_SASL_MECHANISM,
          username: vars.KAFKA_SASL_USERNAME,
          password: vars.KAFKA_SASL_PASSWORD,
        } as KafkaBusOptions['sasl']);
  return {
    kind: 'kafka',
    brokers,
    ...(vars.KAFKA_CLIENT === undefined ? {} : { client: vars.KAFKA_CLIENT }),
    ...(vars.KAFKA_CLIENT_ID === undefined ? {} : { clientId: vars.KAFKA_CLIENT_ID }),
    ...sslOption(vars),
    ...(sasl ? { sasl } : {}),
  };
}

function sslOption(vars: z.infer<typeof env>): Pick<KafkaBusOptions, 'ssl'> {
  const ssl = kafkaSsl(vars, (variable, problem) => {
    throw new ServiceConfigError(variable, problem);
  });
  return ssl === undefined ? {} : { ssl };
}
