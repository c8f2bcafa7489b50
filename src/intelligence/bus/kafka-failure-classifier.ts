import type { BusFailure } from './bus-failure.js';
import { UNKNOWN_FAILURE } from './bus-failure.js';

const TLS_TRUST =
  /certificate|self[- ]signed|unable to verify|UNABLE_TO_GET_ISSUER|CERT_|ERR_TLS_CERT/i;
const TLS_ON_PLAIN_PORT = /before secure TLS connection|wrong version number|EPROTO/i;
const UNREACHABLE = /ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|timeout/i;
const AUTHORIZATION = /AUTHORIZATION_FAILED/;

/** Every error of a kafkajs chain (retry wrappers keep the original as `cause`/`originalError`). */
function chain(error: unknown): Error[] {
  const errors: Error[] = [];
  let current: unknown = error;
  while (current instanceof Error && errors.length < 8) {
    errors.push(current);
    const next = current as { cause?: unknown; originalError?: unknown };
    current = next.originalError ?? next.cause;
  }
  return errors;
}

/**
 * Classifies a kafkajs connection failure. `sasl`/`tls`: whether the client was configured
 * for them, which tells what a connection the broker closed at once most likely means.
 */
export function classifyKafkaFailure(
  error: unknown,
  client: { sasl: boolean; tls: boolean },
): BusFailure {
  const errors = chain(error);
  const has = (test: (e: Error & { type?: string; code?: string }) => boolean) =>
    errors.some((e) => test(e));
  const text = (pattern: RegExp) => has((e) => pattern.test(`${e.message} ${e.code ?? ''}`));
  if (has((e) => e.name === 'KafkaJSSASLAuthenticationError')) {
    return permanent('authentication', 'the broker refused the SASL username or password');
  }
  if (has((e) => e.type === 'UNSUPPORTED_SASL_MECHANISM' || e.type === 'ILLEGAL_SASL_STATE')) {
    return permanent('sasl-mechanism', 'the broker does not accept this SASL mechanism');
  }
  if (has((e) => AUTHORIZATION.test(e.type ?? ''))) {
    return permanent('authorization', 'the credentials lack an ACL the module needs');
  }
  if (text(TLS_ON_PLAIN_PORT)) {
    return permanent('protocol-mismatch', 'TLS was used on a port that does not speak TLS');
  }
  if (text(TLS_TRUST)) {
    return permanent(
      'tls',
      'the broker certificate is not trusted: set the CA (KAFKA_SSL_CA_FILE)',
    );
  }
  if (has((e) => e.name === 'KafkaJSConnectionClosedError')) {
    const expected = client.sasl ? 'TLS' : client.tls ? 'SASL' : 'SASL or TLS';
    return permanent(
      'protocol-mismatch',
      `the broker closed the connection at once: it likely expects ${expected} on this port`,
    );
  }
  if (text(UNREACHABLE)) {
    return { kind: 'transient', cause: 'unreachable', hint: 'the broker cannot be reached' };
  }
  return UNKNOWN_FAILURE;
}

function permanent(cause: BusFailure['cause'], hint: string): BusFailure {
  return { kind: 'permanent', cause, hint: `${hint}; a configuration change is needed` };
}
