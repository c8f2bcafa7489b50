import type { BaseOptions, SASLOptions } from '@platformatic/kafka';
import type { SASLOptions as KafkaJsSasl } from 'kafkajs';
import type { KafkaBusOptions } from './kafka-bus.options.js';

/** The connection options the module's (kafkajs-typed) Kafka options mean for @platformatic/kafka. */
export type PlatformaticConnection = Pick<
  BaseOptions,
  'clientId' | 'bootstrapBrokers' | 'connectTimeout' | 'tls' | 'sasl' | 'retryDelay'
>;

/** A SASL mechanism @platformatic/kafka has no built-in authenticator for. */
export class UnsupportedSaslMechanismError extends Error {
  override name = 'UnsupportedSaslMechanismError';
}

/**
 * The client retries a fetch or produce on the node it was sent to; the fetcher and the
 * publisher re-read the leaders themselves.
 */
const LEADER_RETRY_MS = 100;

/**
 * Delay before the client's own retry of a failed request: 300 ms, doubling, at most 2 s. A
 * fetch or produce is retried after 100 ms: the client sends it to the same node again, so a
 * dead leader would hold it for seconds, while `PartitionFetcher` and `sendBatch` back off
 * themselves and ask fresh metadata for the new leader.
 */
function retryDelay(_client: unknown, operation: string, attempt: number): number {
  if (operation === 'fetch' || operation === 'produce') return LEADER_RETRY_MS;
  return Math.min(2_000, 300 * 2 ** Math.max(0, attempt - 1));
}

/**
 * Maps `clientId`, `brokers`, `ssl`, `sasl` and `connectionTimeoutMs` to @platformatic/kafka's
 * base options: `ssl: true` is TLS with the system CAs, an object is passed to `tls.connect` as
 * it is; SASL `plain` / `scram-sha-256` / `scram-sha-512` keep their username and password, and
 * `oauthbearer` calls kafkajs's `oauthBearerProvider` for each authentication.
 */
export function platformaticConnection(
  options: Pick<
    KafkaBusOptions,
    'brokers' | 'ssl' | 'sasl' | 'connectionTimeoutMs' | 'clientId'
  > & { clientId: string },
): PlatformaticConnection {
  const tls = options.ssl === true ? {} : options.ssl === false ? undefined : options.ssl;
  return {
    clientId: options.clientId,
    bootstrapBrokers: [...options.brokers],
    connectTimeout: options.connectionTimeoutMs ?? 3_000,
    retryDelay,
    ...(tls === undefined ? {} : { tls }),
    ...(options.sasl === undefined ? {} : { sasl: platformaticSasl(options.sasl) }),
  };
}

function platformaticSasl(sasl: KafkaJsSasl): SASLOptions {
  const given = sasl as unknown as Record<string, unknown>;
  const credentials = {
    ...(typeof given.username === 'string' ? { username: given.username } : {}),
    ...(typeof given.password === 'string' ? { password: given.password } : {}),
  };
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'PLAIN', ...credentials };
    case 'scram-sha-256':
      return { mechanism: 'SCRAM-SHA-256', ...credentials };
    case 'scram-sha-512':
      return { mechanism: 'SCRAM-SHA-512', ...credentials };
    case 'oauthbearer': {
      const provider = given.oauthBearerProvider as (() => Promise<{ value: string }>) | undefined;
      if (!provider) break;
      return { mechanism: 'OAUTHBEARER', token: async () => (await provider()).value };
    }
    default:
      break;
  }
  throw new UnsupportedSaslMechanismError(
    `SASL mechanism ${sasl.mechanism} is not supported with bus.client 'platformatic' (plain, scram-sha-256, scram-sha-512, oauthbearer with oauthBearerProvider)`,
  );
}
