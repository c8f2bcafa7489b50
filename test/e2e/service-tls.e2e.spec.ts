import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { IntelligenceRuntime } from '../../src/intelligence/index.js';
import { loadServiceConfig, ServiceConfigError } from '../../src/service.config.js';
import { http } from '../support/http.js';
import { bootServiceApp } from '../support/service-app.js';
import {
  createTestCertificates,
  startTlsBroker,
  type TestCertificates,
  type TlsBroker,
} from '../support/tls-broker.js';
import { uniqueGroup } from '../support/unique-names.js';
import { waitFor } from '../support/wait-for.js';

describe('the service on a TLS broker with a private CA', () => {
  let certs: TestCertificates;
  let tls: TlsBroker;
  let app: INestApplication | undefined;
  const logs: string[] = [];

  beforeAll(async () => {
    certs = createTestCertificates();
    tls = await startTlsBroker(certs);
  }, 120_000);

  afterAll(async () => {
    await tls.broker.cleanup();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function boot(env: Record<string, string>) {
    app = await bootServiceApp(
      { LOG_LEVEL: 'debug', KAFKA_GROUP_ID: uniqueGroup('tls'), KAFKA_SSL: 'true', ...env },
      logs,
    );
    return app.get(IntelligenceRuntime);
  }

  it('wires with the CA file', async () => {
    const runtime = await boot({ KAFKA_BROKERS: tls.tls, KAFKA_SSL_CA_FILE: certs.caFile });
    expect(runtime.status().lastResult).toMatchObject({ ok: true, status: 'wired' });
    await waitFor(() => runtime.status().state === 'wired', 'wired and consuming');
  });

  it('wires with a client certificate and an encrypted key on a listener that requires one', async () => {
    const runtime = await boot({
      KAFKA_BROKERS: tls.mtls,
      KAFKA_SSL_CA_FILE: certs.caFile,
      KAFKA_SSL_CERT_FILE: certs.clientCertFile,
      KAFKA_SSL_KEY_FILE: certs.encryptedClientKeyFile,
      KAFKA_SSL_KEY_PASSPHRASE: certs.passphrase,
    });
    expect(runtime.status().lastResult).toMatchObject({ ok: true, status: 'wired' });
    await waitFor(() => runtime.status().state === 'wired', 'wired and consuming');
    const health = JSON.stringify((await http(app as INestApplication).get('/health')).body);
    const metrics = (await http(app as INestApplication).get('/metrics')).text;
    expect(health + metrics + logs.join('')).not.toContain(certs.passphrase);
  });

  it('does not wire without a client certificate where one is required', async () => {
    const runtime = await boot({ KAFKA_BROKERS: tls.mtls, KAFKA_SSL_CA_FILE: certs.caFile });
    expect(runtime.status().state).not.toBe('wired');
    expect(runtime.status().lastResult?.error).toMatch(/\w/);
  });

  it('does not trust the private CA without the CA file', async () => {
    const runtime = await boot({ KAFKA_BROKERS: tls.tls });
    expect(runtime.status().state).not.toBe('wired');
    await waitFor(() => runtime.status().lastResult?.error, 'the reason');
    expect(runtime.status().lastResult?.error).toMatch(/certificate/i);
  });

  it.each([
    ['KAFKA_SSL_CA_FILE', () => ({ KAFKA_SSL_CA_FILE: notPem() })],
    ['KAFKA_SSL_CA_FILE', () => ({ KAFKA_SSL_CA_FILE: path.join(certs.dir, 'missing.pem') })],
    [
      'KAFKA_SSL_KEY_PASSPHRASE',
      () => ({
        KAFKA_SSL_CERT_FILE: certs.clientCertFile,
        KAFKA_SSL_KEY_FILE: certs.encryptedClientKeyFile,
        KAFKA_SSL_KEY_PASSPHRASE: 'canary-wrong-Passphrase',
      }),
    ],
    ['KAFKA_SSL_KEY_FILE', () => ({ KAFKA_SSL_CERT_FILE: certs.clientCertFile })],
  ])('refuses a bad %s at boot, naming it and not its value', (variable, env) => {
    let error: unknown;
    try {
      loadServiceConfig({ KAFKA_BROKERS: tls.tls, ...env() });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ServiceConfigError);
    expect((error as ServiceConfigError).variable).toBe(variable);
    expect((error as Error).message).not.toMatch(/canary|BEGIN|missing\.pem/);
  });

  function notPem(): string {
    const file = path.join(certs.dir, 'not-a-certificate.pem');
    writeFileSync(file, 'canary-not-a-certificate\n');
    return file;
  }
});
