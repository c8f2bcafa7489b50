import type { BusFailure } from './bus-failure.js';
import {
  classifyConnectionFailure,
  SASL_MECHANISM_ERRORS,
  TLS_TRUST,
} from './connection-failure-rules.js';

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
  return classifyConnectionFailure(
    [
      ['authentication', () => has((e) => e.name === 'KafkaJSSASLAuthenticationError')],
      ['sasl-mechanism', () => has((e) => SASL_MECHANISM_ERRORS.has(e.type ?? ''))],
      ['authorization', () => has((e) => AUTHORIZATION.test(e.type ?? ''))],
      ['tls-on-plain-port', () => text(TLS_ON_PLAIN_PORT)],
      ['tls-trust', () => text(TLS_TRUST)],
      ['closed-at-once', () => has((e) => e.name === 'KafkaJSConnectionClosedError')],
      ['unreachable', () => text(UNREACHABLE)],
    ],
    client,
  );
}
