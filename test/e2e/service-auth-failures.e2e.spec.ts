import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { http } from '../support/http.js';
import { bootServiceApp } from '../support/service-app.js';
import { startSaslBroker, type SaslBroker } from '../support/sasl-broker.js';
import {
  createTestCertificates,
  startTlsBroker,
  type TestCertificates,
  type TlsBroker,
} from '../support/tls-broker.js';
import { uniqueGroup } from '../support/unique-names.js';

const PASSWORD = 'canary-scram-Pa55word-91';

interface Failure {
  kind: string;
  cause: string;
  hint: string;
  needsConfigChange: boolean;
}

describe('the service tells permanent connection failures from transient ones', () => {
  let sasl: SaslBroker;
  let certs: TestCertificates;
  let tls: TlsBroker;
  let app: INestApplication | undefined;
  const logs: string[] = [];
  /** Health bodies and metrics of every boot. */
  const outputs: string[] = [];

  beforeAll(async () => {
    certs = createTestCertificates();
    [sasl, tls] = await Promise.all([
      startSaslBroker({ name: 'alice', password: PASSWORD }, certs),
      startTlsBroker(certs),
    ]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([sasl.broker.cleanup(), tls.broker.cleanup()]);
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Boots the service with `env`; returns the health body after the first wiring attempt. */
  async function health(env: Record<string, string>) {
    // Nest's static logger may still write to an earlier app's stream: read them all from here.
    const from = logs.length;
    app = await bootServiceApp({ KAFKA_GROUP_ID: uniqueGroup('auth'), ...env }, logs);
    const response = await http(app).get('/health');
    outputs.push(JSON.stringify(response.body), (await http(app).get('/metrics')).text);
    const body = response.body as {
      details: { intelligence: { state: string; failure?: Failure } };
    };
    const errors = logs
      .slice(from)
      .join('')
      .split('\n')
      .filter(Boolean)
      .filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    return { status: response.status, details: body.details.intelligence, errors };
  }

  const scram = (password: string, username = 'alice', mechanism = 'scram-sha-512') => ({
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
  });

  it('wires with the right SCRAM credentials', async () => {
    const { details } = await health({ KAFKA_BROKERS: sasl.sasl, ...scram(PASSWORD) });
    expect(details.failure).toBeUndefined();
    expect(['wired', 'degraded']).toContain(details.state);
  });

  it('wires with SCRAM over SASL_SSL with the CA file', async () => {
    const { details } = await health({
      KAFKA_BROKERS: sasl.saslSsl,
      KAFKA_SSL_CA_FILE: certs.caFile,
      ...scram(PASSWORD),
    });
    expect(details.failure).toBeUndefined();
    expect(['wired', 'degraded']).toContain(details.state);
  });

  it.each<[string, () => Record<string, string>, string, RegExp]>([
    [
      'a wrong password',
      () => ({ KAFKA_BROKERS: sasl.sasl, ...scram('wrong') }),
      'authentication',
      /username or password/,
    ],
    [
      'an unknown user',
      () => ({ KAFKA_BROKERS: sasl.sasl, ...scram('x', 'mallory') }),
      'authentication',
      /username or password/,
    ],
    [
      'a wrong mechanism',
      () => ({ KAFKA_BROKERS: sasl.sasl, ...scram(PASSWORD, 'alice', 'plain') }),
      'sasl-mechanism',
      /mechanism/,
    ],
    [
      'PLAINTEXT on a SASL port',
      () => ({ KAFKA_BROKERS: sasl.sasl }),
      'protocol-mismatch',
      /SASL or TLS/,
    ],
    [
      'no TLS on a TLS port',
      () => ({ KAFKA_BROKERS: tls.tls }),
      'protocol-mismatch',
      /SASL or TLS/,
    ],
    [
      'TLS on a PLAINTEXT port',
      () => ({ KAFKA_BROKERS: sasl.plain, KAFKA_SSL: 'true' }),
      'protocol-mismatch',
      /does not speak TLS/,
    ],
    [
      'an untrusted certificate',
      () => ({ KAFKA_BROKERS: tls.tls, KAFKA_SSL: 'true' }),
      'tls',
      /KAFKA_SSL_CA_FILE/,
    ],
  ])('classifies %s as permanent, in health and in one log line', async (_, env, cause, hint) => {
    const { status, details, errors } = await health(env());
    expect(status).toBe(503);
    expect(details.failure).toMatchObject({ kind: 'permanent', cause, needsConfigChange: true });
    expect(details.failure?.hint).toMatch(hint);
    expect(errors).toHaveLength(1);
  });

  it('classifies an unreachable broker as transient', async () => {
    const { details } = await health({ KAFKA_BROKERS: '127.0.0.1:1' });
    expect(details.failure).toMatchObject({
      kind: 'transient',
      cause: 'unreachable',
      needsConfigChange: false,
    });
  });

  it('never lets the password reach a log line, a health body or the metrics', () => {
    expect(outputs.length).toBeGreaterThan(0);
    expect(logs.join('') + outputs.join('')).not.toContain(PASSWORD);
  });
});
