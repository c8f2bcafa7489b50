import type { BusFailure } from './bus-failure.js';
import {
  classifyConnectionFailure,
  SASL_MECHANISM_ERRORS,
  TLS_TRUST,
} from './connection-failure-rules.js';

const TLS_ON_PLAIN_PORT =
  /TLS handshake failed|before secure TLS connection|wrong version number|EPROTO/i;
const UNREACHABLE =
  /ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|timed? ?out/i;

interface ClientError extends Error {
  code?: string;
  apiId?: string;
}

/**
 * Every error of a @platformatic/kafka failure: its retries are `MultipleErrors` (an
 * AggregateError) holding each attempt's error, network errors keep the socket's as `cause`.
 */
export function platformaticErrorTree(error: unknown, limit = 64): ClientError[] {
  const found: ClientError[] = [];
  const pending: unknown[] = [error];
  const seen = new Set<unknown>();
  while (pending.length > 0 && found.length < limit) {
    const current = pending.shift();
    // Duck-typed: errors of node's sockets and of the client may come from another realm.
    if (!isErrorLike(current) || seen.has(current)) continue;
    seen.add(current);
    found.push(current);
    if (Array.isArray(current.errors)) pending.push(...(current.errors as unknown[]));
    if (current.cause !== undefined) pending.push(current.cause);
  }
  return found;
}

function isErrorLike(value: unknown): value is ClientError & { errors?: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** The Kafka protocol error ids (e.g. `MESSAGE_TOO_LARGE`) anywhere in a client failure. */
export function protocolErrorIds(error: unknown): Set<string> {
  const ids = new Set<string>();
  for (const { apiId } of platformaticErrorTree(error)) if (apiId) ids.add(apiId);
  return ids;
}

/**
 * Classifies a @platformatic/kafka connection failure like `classifyKafkaFailure` does for
 * kafkajs. `sasl`/`tls`: whether the client was configured for them, which tells what a
 * connection the broker closed at once most likely means.
 */
export function classifyPlatformaticFailure(
  error: unknown,
  client: { sasl: boolean; tls: boolean },
): BusFailure {
  const errors = platformaticErrorTree(error);
  const ids = [...protocolErrorIds(error)];
  const text = (pattern: RegExp) =>
    errors.some((e) => pattern.test(`${e.message} ${typeof e.code === 'string' ? e.code : ''}`));
  const coded = (code: string, message?: RegExp) =>
    errors.some((e) => e.code === code && (message?.test(e.message) ?? true));
  return classifyConnectionFailure(
    [
      [
        'sasl-mechanism',
        () =>
          ids.some((id) => SASL_MECHANISM_ERRORS.has(id)) ||
          text(/SASL mechanism .* not supported/),
      ],
      [
        'authentication',
        () => ids.includes('SASL_AUTHENTICATION_FAILED') || coded('PLT_KFK_AUTHENTICATION'),
      ],
      ['authorization', () => ids.some((id) => id.endsWith('AUTHORIZATION_FAILED'))],
      ['tls-on-plain-port', () => text(TLS_ON_PLAIN_PORT)],
      ['tls-trust', () => text(TLS_TRUST)],
      ['unreachable', () => text(UNREACHABLE)],
      ['closed-at-once', () => coded('PLT_KFK_NETWORK', /Connection closed/)],
    ],
    client,
  );
}

/**
 * One error that says what a @platformatic/kafka failure was: the outer message (e.g.
 * "metadata failed 4 times.") and the root cause (e.g. "connect ECONNREFUSED 127.0.0.1:1"),
 * named by its code. Still to be sanitized before it is logged or shown.
 */
export function summarizePlatformaticError(error: unknown): Error {
  const errors = platformaticErrorTree(error);
  const [top] = errors;
  if (!top) return new Error(String(error));
  const leaf =
    [...errors]
      .reverse()
      .find((e) => !Array.isArray((e as { errors?: unknown }).errors) && e.cause === undefined) ??
    top;
  const summary = new Error(
    leaf === top ? top.message : `${top.message.replace(/\.$/, '')}: ${leaf.message}`,
  );
  summary.name = typeof leaf.code === 'string' ? leaf.code : leaf.name;
  return summary;
}
