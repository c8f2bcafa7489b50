import { UNKNOWN_FAILURE, type BusFailure } from './bus-failure.js';

/** What a client's connection failure was found to be; each client has its own signs of it. */
export type FailureSign =
  | 'authentication'
  | 'sasl-mechanism'
  | 'authorization'
  | 'tls-on-plain-port'
  | 'tls-trust'
  | 'closed-at-once'
  | 'unreachable';

/** A sign and how to tell it, tried in the order a client lists them. */
export type FailureRule = readonly [sign: FailureSign, found: () => boolean];

/** A TLS handshake that failed on the broker's certificate (any client's wording). */
export const TLS_TRUST =
  /certificate|self[- ]signed|unable to verify|UNABLE_TO_GET_ISSUER|CERT_|ERR_TLS_CERT/i;

/** The Kafka protocol errors of a SASL mechanism the broker does not take. */
export const SASL_MECHANISM_ERRORS: ReadonlySet<string> = new Set([
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
]);

/**
 * The verdict of the first rule whose sign is found (`UNKNOWN_FAILURE` if none is). `sasl`/`tls`:
 * whether the client was configured for them, which tells what a connection the broker closed
 * at once most likely means.
 */
export function classifyConnectionFailure(
  rules: readonly FailureRule[],
  client: { sasl: boolean; tls: boolean },
): BusFailure {
  const rule = rules.find(([, found]) => found());
  return rule ? verdict(rule[0], client) : UNKNOWN_FAILURE;
}

function verdict(sign: FailureSign, client: { sasl: boolean; tls: boolean }): BusFailure {
  switch (sign) {
    case 'authentication':
      return permanent('authentication', 'the broker refused the SASL username or password');
    case 'sasl-mechanism':
      return permanent('sasl-mechanism', 'the broker does not accept this SASL mechanism');
    case 'authorization':
      return permanent('authorization', 'the credentials lack an ACL the module needs');
    case 'tls-on-plain-port':
      return permanent('protocol-mismatch', 'TLS was used on a port that does not speak TLS');
    case 'tls-trust':
      return permanent(
        'tls',
        'the broker certificate is not trusted: set the CA (KAFKA_SSL_CA_FILE)',
      );
    case 'closed-at-once': {
      const expected = client.sasl ? 'TLS' : client.tls ? 'SASL' : 'SASL or TLS';
      return permanent(
        'protocol-mismatch',
        `the broker closed the connection at once: it likely expects ${expected} on this port`,
      );
    }
    case 'unreachable':
      return { kind: 'transient', cause: 'unreachable', hint: 'the broker cannot be reached' };
  }
}

function permanent(cause: BusFailure['cause'], hint: string): BusFailure {
  return { kind: 'permanent', cause, hint: `${hint}; a configuration change is needed` };
}
