import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { IntelligenceModule, type BusOption } from '../../src/intelligence/index.js';
import { http } from '../support/http.js';
import { kafkaBrokers } from '../support/kafka-env.js';

async function bootApp(bus: BusOption): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [IntelligenceModule.forRoot({ serviceName: 'health-e2e', bus })],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('GET /health on the whole app', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('is up on the embedded bus', async () => {
    app = await bootApp({ kind: 'memory' });
    const response = await http(app).get('/health').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      info: {
        intelligence: { status: 'up', state: 'wired', bus: { kind: 'memory', connected: true } },
      },
    });
  });

  it('is up on the real Kafka broker', async () => {
    app = await bootApp({ kind: 'kafka', brokers: kafkaBrokers() });
    const response = await http(app).get('/health').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      info: {
        intelligence: {
          state: 'wired',
          bus: { kind: 'kafka', connected: true, brokers: kafkaBrokers() },
        },
      },
    });
  });

  it('answers 503 with the sanitized reason when the broker is absent', async () => {
    app = await bootApp({
      kind: 'kafka',
      brokers: ['127.0.0.1:1'],
      sasl: { mechanism: 'plain', username: 'svc', password: 'canary-Pa55word-e2e' },
      connectRetries: 0,
      connectionTimeoutMs: 200,
    });
    const response = await http(app).get('/health').expect(503);
    expect(response.body).toMatchObject({
      status: 'error',
      error: {
        intelligence: {
          status: 'down',
          state: 'retrying',
          lastResult: {
            ok: false,
            status: 'failed',
            error: expect.stringMatching(/BusConnectionError/),
          },
          bus: { connected: false },
        },
      },
    });
    expect(JSON.stringify(response.body)).not.toContain('canary-Pa55word-e2e');
  });
});
