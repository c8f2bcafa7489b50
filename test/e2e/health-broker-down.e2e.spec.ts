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
interface Health {
  state: string;
  bus: { connected: boolean };
  consumers: { state: string; lastError?: string; recoveredError?: Record<string, string> }[];
}

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
          const details = (response.body as { error?: { intelligence?: Health } }).error
            ?.intelligence;
          return response.status === 503 && details?.consumers.some((c) => c.state === 'crashed')
            ? details
            : undefined;
        },
        'unready with the crashed consumer',
        60_000,
      );
      // The runtime and the bus say what the client says, not what wiring once achieved.
      expect(body.state).toBe('degraded');
      expect(body.bus.connected).toBe(false);
      expect(body.consumers[0]?.lastError).toMatch(/\w/);
      await server.get('/health/live').expect(200);
    } finally {
      await broker.restart();
    }
    const recovered = await waitFor(
      async () => {
        const response = await server.get('/health/ready');
        return response.status === 200
          ? (response.body as { info: { intelligence: Health } }).info.intelligence
          : undefined;
      },
      'ready again',
      60_000,
    );
    // The old error is history now: shown as recovered, with its times, not as current.
    expect(recovered.state).toBe('wired');
    expect(recovered.consumers[0]?.lastError).toBeUndefined();
    expect(recovered.consumers[0]?.recoveredError).toMatchObject({
      error: expect.any(String),
      at: expect.any(String),
      recoveredAt: expect.any(String),
    });
  });
});
