import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { startBroker, type BrokerHandle } from '../../scripts/kafka/broker.mjs';
import { IntelligenceModule } from '../../src/intelligence/index.js';
import { http } from '../support/http.js';
import { SAMPLE_NODES } from '../support/sample-nodes.js';
import { uniqueGroup } from '../support/unique-names.js';
import { waitFor } from '../support/wait-for.js';

/** A dedicated broker is killed with SIGKILL under a running app, then restarted. */
describe('health when the broker goes away', () => {
  let broker: BrokerHandle;
  let app: INestApplication;

  beforeAll(async () => {
    broker = await startBroker();
    const moduleRef = await Test.createTestingModule({
      imports: [
        IntelligenceModule.forRoot({
          serviceName: 'broker-down',
          groupId: uniqueGroup('broker-down'),
          bus: {
            kind: 'kafka',
            brokers: broker.brokers,
            consumerRetries: 0,
            fetchMaxWaitMs: 200,
            sessionTimeoutMs: 10_000,
            heartbeatIntervalMs: 500,
          },
          introspection: { heartbeatIntervalMs: 500 },
        }),
      ],
      providers: SAMPLE_NODES,
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  }, 120_000);

  afterAll(async () => {
    await app.close();
    await broker.cleanup();
  });

  it('goes unready with the crashed consumer in the body, stays live, and recovers', async () => {
    const server = http(app);
    await waitFor(async () => (await server.get('/health/ready')).status === 200, 'ready', 60_000);
    await broker.kill9();
    try {
      const body = await waitFor(
        async () => {
          const response = await server.get('/health/ready');
          return response.status === 503
            ? (response.body as { error: { intelligence: { consumers: { state: string }[] } } })
            : undefined;
        },
        'unready',
        60_000,
      );
      expect(body.error.intelligence.consumers.map((consumer) => consumer.state)).toContain(
        'crashed',
      );
      await server.get('/health/live').expect(200);
    } finally {
      await broker.restart();
    }
    await waitFor(
      async () => (await server.get('/health/ready')).status === 200,
      'ready again',
      60_000,
    );
  });
});
