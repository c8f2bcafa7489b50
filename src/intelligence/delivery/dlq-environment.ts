import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaBusOptions } from '../bus/kafka-bus.options.js';

type Environment = Readonly<Record<string, string | undefined>>;

/** A bad environment variable: the message names it, never its value. */
export class DlqEnvironmentError extends Error {
  override name = 'DlqEnvironmentError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid environment variable ${variable}: ${problem}`);
  }
}

const BROKER = /^[^\s:/,]+:\d{1,5}$/;
const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/**
 * The Kafka connection of `intelligence-dlq`, from the service's variables (README):
 * `KAFKA_BROKERS` (required), `KAFKA_CLIENT`, `KAFKA_CLIENT_ID` (default `<SERVICE_NAME>-dlq`),
 * `KAFKA_SSL` and `KAFKA_SSL_*` (CA, certificate and key files, key passphrase, server name,
 * `KAFKA_SSL_REJECT_UNAUTHORIZED`), `KAFKA_SASL_MECHANISM` / `_USERNAME` / `_PASSWORD`.
 */
export function kafkaBusFromEnvironment(env: Environment): KafkaBusOptions {
  const brokers = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (brokers.length === 0) {
    throw new DlqEnvironmentError('KAFKA_BROKERS', 'must be set: comma-separated host:port');
  }
  if (!brokers.every((broker) => BROKER.test(broker))) {
    throw new DlqEnvironmentError('KAFKA_BROKERS', 'must be a comma-separated list of host:port');
  }
  const client = env.KAFKA_CLIENT;
  if (client !== undefined && client !== 'kafkajs' && client !== 'platformatic') {
    throw new DlqEnvironmentError('KAFKA_CLIENT', "must be 'kafkajs' or 'platformatic'");
  }
  const ssl = sslOf(env);
  const sasl = saslOf(env);
  return {
    kind: 'kafka',
    brokers,
    clientId: env.KAFKA_CLIENT_ID || `${env.SERVICE_NAME || 'omniintelligence'}-dlq`,
    ...(client === undefined ? {} : { client }),
    ...(ssl === undefined ? {} : { ssl }),
    ...(sasl === undefined ? {} : { sasl }),
  };
}

function sslOf(env: Environment): boolean | ConnectionOptions | undefined {
  const tls: ConnectionOptions = {
    ...(env.KAFKA_SSL_CA_FILE
      ? {
          ca: env.KAFKA_SSL_CA_FILE.split(',').map((file) => pem(file.trim(), 'KAFKA_SSL_CA_FILE')),
        }
      : {}),
    ...(env.KAFKA_SSL_CERT_FILE
      ? { cert: pem(env.KAFKA_SSL_CERT_FILE, 'KAFKA_SSL_CERT_FILE') }
      : {}),
    ...(env.KAFKA_SSL_KEY_FILE ? { key: pem(env.KAFKA_SSL_KEY_FILE, 'KAFKA_SSL_KEY_FILE') } : {}),
    ...(env.KAFKA_SSL_KEY_PASSPHRASE ? { passphrase: env.KAFKA_SSL_KEY_PASSPHRASE } : {}),
    ...(env.KAFKA_SSL_SERVERNAME ? { servername: env.KAFKA_SSL_SERVERNAME } : {}),
    ...(env.KAFKA_SSL_REJECT_UNAUTHORIZED === 'false' ? { rejectUnauthorized: false } : {}),
  };
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new DlqEnvironmentError(
      tls.cert === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE',
      'must be set with the other one (client certificate and key go together)',
    );
  }
  const custom = Object.keys(tls).length > 0;
  if (env.KAFKA_SSL === 'false' && custom) {
    throw new DlqEnvironmentError('KAFKA_SSL', 'is false while KAFKA_SSL_* are set');
  }
  if (custom) return tls;
  return env.KAFKA_SSL === 'true' ? true : undefined;
}

function pem(file: string, variable: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new DlqEnvironmentError(variable, 'cannot read the file it names');
  }
}

function saslOf(env: Environment): KafkaBusOptions['sasl'] {
  const mechanism = env.KAFKA_SASL_MECHANISM;
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = env;
  if (mechanism === undefined) {
    if (username || password) {
      throw new DlqEnvironmentError('KAFKA_SASL_MECHANISM', 'must be set with KAFKA_SASL_USERNAME');
    }
    return undefined;
  }
  const known = SASL_MECHANISMS.find((name) => name === mechanism);
  if (!known) {
    throw new DlqEnvironmentError(
      'KAFKA_SASL_MECHANISM',
      `must be one of ${SASL_MECHANISMS.join(', ')}`,
    );
  }
  if (!username || !password) {
    throw new DlqEnvironmentError(
      username ? 'KAFKA_SASL_PASSWORD' : 'KAFKA_SASL_USERNAME',
      'must be set (non-empty) with KAFKA_SASL_MECHANISM',
    );
  }
  return { mechanism: known, username, password };
}
