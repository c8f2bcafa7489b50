import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

/** The TLS variables of the service, as read from the environment (all optional). */
export interface TlsVariables {
  KAFKA_SSL?: 'true' | 'false';
  KAFKA_SSL_CA_FILE?: string;
  KAFKA_SSL_CERT_FILE?: string;
  KAFKA_SSL_KEY_FILE?: string;
  KAFKA_SSL_KEY_PASSPHRASE?: string;
  KAFKA_SSL_SERVERNAME?: string;
  KAFKA_SSL_REJECT_UNAUTHORIZED?: 'true' | 'false';
}

type Fail = (variable: string, problem: string) => never;

function readPem(file: string, variable: string, fail: Fail): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fail(variable, 'cannot read the file it names');
  }
}

/** Every certificate of a PEM bundle, checked: a file that holds none is refused. */
function certificates(pem: string, variable: string, fail: Fail): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) fail(variable, 'holds no PEM certificate');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      fail(variable, 'holds a certificate that does not parse');
    }
  }
  return blocks;
}

/**
 * The kafkajs `ssl` option from the TLS variables: `undefined` without TLS, `true` for the
 * system CAs, or node `tls.connect` options with private CAs (comma-separated files), a client
 * certificate and key (mTLS, the key optionally encrypted), a server name, and
 * `KAFKA_SSL_REJECT_UNAUTHORIZED=false` (unsafe: any certificate is accepted). Files are read
 * and parsed at boot; a problem names the variable, never a value.
 */
export function kafkaSsl(vars: TlsVariables, fail: Fail): boolean | ConnectionOptions | undefined {
  const files =
    vars.KAFKA_SSL_CA_FILE ?? vars.KAFKA_SSL_CERT_FILE ?? vars.KAFKA_SSL_KEY_FILE ?? undefined;
  const custom =
    files !== undefined ||
    vars.KAFKA_SSL_SERVERNAME !== undefined ||
    vars.KAFKA_SSL_REJECT_UNAUTHORIZED !== undefined;
  if (vars.KAFKA_SSL === 'false' && custom) fail('KAFKA_SSL', 'is false while KAFKA_SSL_* are set');
  if (!custom) return vars.KAFKA_SSL === 'true' ? true : undefined;
  if ((vars.KAFKA_SSL_CERT_FILE === undefined) !== (vars.KAFKA_SSL_KEY_FILE === undefined)) {
    fail(
      vars.KAFKA_SSL_CERT_FILE === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE',
      'must be set with the other one (client certificate and key go together)',
    );
  }
  const options: ConnectionOptions = {};
  if (vars.KAFKA_SSL_CA_FILE !== undefined) {
    options.ca = vars.KAFKA_SSL_CA_FILE.split(',')
      .map((file) => file.trim())
      .filter(Boolean)
      .flatMap((file) =>
        certificates(readPem(file, 'KAFKA_SSL_CA_FILE', fail), 'KAFKA_SSL_CA_FILE', fail),
      );
  }
  if (vars.KAFKA_SSL_CERT_FILE !== undefined && vars.KAFKA_SSL_KEY_FILE !== undefined) {
    const cert = readPem(vars.KAFKA_SSL_CERT_FILE, 'KAFKA_SSL_CERT_FILE', fail);
    certificates(cert, 'KAFKA_SSL_CERT_FILE', fail);
    const key = readPem(vars.KAFKA_SSL_KEY_FILE, 'KAFKA_SSL_KEY_FILE', fail);
    const passphrase = vars.KAFKA_SSL_KEY_PASSPHRASE;
    try {
      createPrivateKey(passphrase === undefined ? key : { key, passphrase });
    } catch {
      fail(
        passphrase === undefined ? 'KAFKA_SSL_KEY_FILE' : 'KAFKA_SSL_KEY_PASSPHRASE',
        'the key cannot be read (not a PEM private key, or a wrong or missing passphrase)',
      );
    }
    Object.assign(options, { cert, key }, passphrase === undefined ? {} : { passphrase });
  }
  if (vars.KAFKA_SSL_SERVERNAME !== undefined) options.servername = vars.KAFKA_SSL_SERVERNAME;
  if (vars.KAFKA_SSL_REJECT_UNAUTHORIZED === 'false') options.rejectUnauthorized = false;
  return options;
}
