import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBroker, type BrokerHandle } from '../../scripts/kafka/broker.mjs';

export interface TestCertificates {
  dir: string;
  /** The CA that signed the broker's and the client's certificates. */
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** The client key again, encrypted with `passphrase`. */
  encryptedClientKeyFile: string;
  passphrase: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A throwaway CA, a broker certificate for 127.0.0.1 and a client certificate, all PEM. */
export function createTestCertificates(passphrase = 'canary-key-Passphr4se'): TestCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), 'kafka-tls-'));
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=intelligence-test-ca',
  ]);
  for (const name of ['server', 'client']) {
    openssl(dir, [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name === 'server' ? 'localhost' : 'intelligence-client'}`,
    ]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      'san.ext',
    ]);
    openssl(dir, ['pkcs8', '-topk8', '-nocrypt', '-in', `${name}.key`, '-out', `${name}.pk8`]);
  }
  openssl(dir, [
    'pkcs8',
    '-topk8',
    '-in',
    'client.key',
    '-out',
    'client-encrypted.pk8',
    '-passout',
    `pass:${passphrase}`,
  ]);
  execFileSync('sh', ['-c', 'cat server.pk8 server.pem > server-keystore.pem'], { cwd: dir });
  return {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    clientCertFile: path.join(dir, 'client.pem'),
    clientKeyFile: path.join(dir, 'client.pk8'),
    encryptedClientKeyFile: path.join(dir, 'client-encrypted.pk8'),
    passphrase,
  };
}

/** A free port on 127.0.0.1 (closed again at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface TlsBroker {
  broker: BrokerHandle;
  /** TLS, no client certificate asked for. */
  tls: string;
  /** TLS with a client certificate required (mTLS). */
  mtls: string;
}

/** The broker properties that give listener `name` the test certificates (PEM). */
export function tlsListenerProps(name: string, certs: TestCertificates): Record<string, string> {
  return {
    [`listener.name.${name}.ssl.keystore.type`]: 'PEM',
    [`listener.name.${name}.ssl.keystore.location`]: path.join(certs.dir, 'server-keystore.pem'),
    [`listener.name.${name}.ssl.truststore.type`]: 'PEM',
    [`listener.name.${name}.ssl.truststore.location`]: certs.caFile,
  };
}

/** A real broker with a PLAINTEXT listener (its readiness check), a TLS and an mTLS listener. */
export async function startTlsBroker(certs: TestCertificates): Promise<TlsBroker> {
  const [port, controllerPort, tlsPort, mtlsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const listener = (name: string) => tlsListenerProps(name, certs);
  const broker = await startBroker({
    port,
    controllerPort,
    extraProps: {
      listeners: `PLAINTEXT://127.0.0.1:${String(port)},TLS://127.0.0.1:${String(tlsPort)},MTLS://127.0.0.1:${String(mtlsPort)},CONTROLLER://127.0.0.1:${String(controllerPort)}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${String(port)},TLS://127.0.0.1:${String(tlsPort)},MTLS://127.0.0.1:${String(mtlsPort)}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,TLS:SSL,MTLS:SSL,CONTROLLER:PLAINTEXT',
      ...listener('tls'),
      ...listener('mtls'),
      'listener.name.mtls.ssl.client.auth': 'required',
    },
  });
  return { broker, tls: `127.0.0.1:${String(tlsPort)}`, mtls: `127.0.0.1:${String(mtlsPort)}` };
}
