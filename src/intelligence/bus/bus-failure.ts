/**
 * What kind of failure a bus error is. `permanent` ones (credentials, TLS trust, a protocol
 * the port does not speak) need a configuration change: retrying at the same cadence as an
 * outage cannot help. `transient` ones (the broker unreachable) pass by themselves.
 */
export interface BusFailure {
  kind: 'permanent' | 'transient';
  cause:
    | 'authentication'
    | 'authorization'
    | 'sasl-mechanism'
    | 'tls'
    | 'protocol-mismatch'
    | 'unreachable'
    | 'unknown';
  /** What to check, for an operator; never a secret or a value. */
  hint: string;
}

export const UNKNOWN_FAILURE: BusFailure = {
  kind: 'transient',
  cause: 'unknown',
  hint: 'retried with backoff',
};
