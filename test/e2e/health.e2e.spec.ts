import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createEnvelope, toOutgoing } from '../../src/intelligence/wire/envelope.js';
import { IntelligenceHandler } from '../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import {
  IntelligenceModule,
  type IntelligenceModuleOptions,
} from '../../src/intelligence/index.js';
import { FaultyBus } from '../support/faulty-bus.js';
import { http } from '../support/http.js';
import { kafkaBrokers } from '../support/kafka-env.js';
import { SAMPLE_NODES } from '../support/sample-nodes.js';
import { waitFor } from '../support/wait-for.js';

const SLOW = 'onex.cmd.test.slow-e2e.v1';
let release: () => void = () => undefined;

@Injectable()
class SlowHandler {
  @IntelligenceHandler(SLOW)
  async handle(): Promise<void> {
    await new Promise<void>((resolve) => (release = resolve));
  }
}

async function bootApp(options: Omit<IntelligenceModuleOptions, 'serviceName'>) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      IntelligenceModule.forRoot({
        serviceName: 'health-e2e',
        introspection: { heartbeatIntervalMs: 1_000 },
        metrics: { path: 'metrics' },
        ...options,
      }),
    ],
    providers: [...SAMPLE_NODES, SlowHandler],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('health and metrics endpoints of the whole app', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    release();
    await app?.close();
    app = undefined;
  });

  it('is ready and live when wired on the embedded bus, with heartbeat ages', async () => {
    app = await bootApp({ bus: { kind: 'memory' } });
    await waitFor(
      async () => (await http(app as INestApplication).get('/health/ready')).status === 200,
      'ready',
    );
    const ready = await http(app).get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({
      status: 'ok',
      info: {
        intelligence: {
          status: 'up',
          state: 'wired',
          bus: { kind: 'memory', connected: true },
          consumers: [{ groupId: 'omniintelligence-hooks', state: 'running' }],
          heartbeats: { 'alpha-effect': expect.any(Number), 'beta-effect': expect.any(Number) },
        },
      },
    });
    await http(app).get('/health').expect(200);
    await http(app).get('/health/live').expect(200);
  });

  it('is ready on the real Kafka broker', async () => {
    app = await bootApp({ bus: { kind: 'kafka', brokers: kafkaBrokers(), fetchMaxWaitMs: 200 } });
    const server = http(app);
    await waitFor(async () => (await server.get('/health/ready')).status === 200, 'ready');
    const response = await server.get('/health/ready').expect(200);
    expect(response.body).toMatchObject({
      info: {
        intelligence: {
          state: 'wired',
          bus: { kind: 'kafka', connected: true, brokers: kafkaBrokers() },
          consumers: [{ state: 'running', assignedPartitions: expect.any(Number) }],
        },
      },
    });
  });

  it('answers 503 with the sanitized reason when wiring failed, and stays live while retrying', async () => {
    const canary = 'canary-Pa55word-e2e';
    app = await bootApp({
      bus: {
        kind: 'kafka',
        brokers: ['127.0.0.1:1'],
        sasl: { mechanism: 'plain', username: 'svc', password: canary },
        connectRetries: 0,
        connectionTimeoutMs: 200,
      },
    });
    const response = await http(app).get('/health/ready').expect(503);
    expect(response.body).toMatchObject({
      status: 'error',
      error: {
        intelligence: {
          status: 'down',
          state: 'retrying',
          lastError: expect.stringMatching(/BusConnectionError/),
          bus: { connected: false },
        },
      },
    });
    await http(app).get('/health/live').expect(200);
    const metrics = await http(app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/intelligence_wiring_state\{state="retrying"\} 1/);
    for (const text of [JSON.stringify(response.body), metrics.text])
      expect(text).not.toContain(canary);
  });

  it('is not live when wiring failed and no retry will come', async () => {
    const bus = new FaultyBus();
    bus.connectError = new Error('bus broken');
    app = await bootApp({ bus, wiring: { retry: false } });
    await http(app).get('/health/live').expect(503);
  });

  it('turns readiness down while draining at shutdown', async () => {
    const bus = new FaultyBus();
    app = await bootApp({ bus, shutdown: { drainTimeoutMs: 5_000 } });
    await bus.publish(SLOW, toOutgoing(createEnvelope({ topic: SLOW, payload: {} })));
    const server = http(app);
    const closing = app.close();
    await waitFor(async () => (await server.get('/health/ready')).status === 503, 'not ready');
    const body = (await server.get('/health/ready')).body as {
      error: { intelligence: { state: string } };
    };
    expect(body.error.intelligence.state).toBe('draining');
    release();
    await closing;
    app = undefined;
  });

  it('exposes handler, message and heartbeat metrics', async () => {
    const bus = new FaultyBus();
    app = await bootApp({ bus });
    const topic = 'onex.evt.test.alpha-requested.v1';
    await bus.publish(topic, toOutgoing(createEnvelope({ topic, payload: {} })));
    await waitFor(() => bus.envelopes('onex.evt.test.alpha-done.v1').length === 1, 'handled');
    const text = (await http(app).get('/metrics').expect(200)).text;
    expect(text).toContain(`intelligence_messages_total{topic="${topic}",outcome="success"} 1`);
    expect(text).toMatch(
      /intelligence_handler_duration_seconds_count\{handler="AlphaEffectNode.onAlpha",result="success"\} 1/,
    );
    expect(text).toMatch(
      /intelligence_heartbeats_total\{node="alpha-effect",result="sent"\} [1-9]/,
    );
    expect(text).toContain('intelligence_wiring_state{state="wired"} 1');
    expect(text).toMatch(
      new RegExp(
        `intelligence_consumer_lag\\{group="omniintelligence-hooks",topic="${topic.replaceAll('.', '\\.')}",partition="\\d+"\\} 0`,
      ),
    );
  });
});
