import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { execFile } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { Logger } from 'nestjs-pino';
import { AppModule } from '../../src/app.module.js';
import {
  createEnvelope,
  DispatchEngine,
  EventBus,
  IntelligenceHandler,
  toOutgoing,
} from '../../src/intelligence/index.js';
import {
  PATTERN_LEARNING_TOPIC,
  PATTERN_LIFECYCLE_TRANSITIONED_TOPIC,
  PATTERN_STORED_TOPIC,
  PatternStore,
} from '../../src/nodes/index.js';
import { loadServiceConfig } from '../../src/service.config.js';
import { http } from '../support/http.js';
import { kafkaBrokers } from '../support/kafka-env.js';
import { RawTopicReader } from '../support/dispatch-kafka.js';
import { KafkaTopicReader } from '../support/kafka-topic-reader.js';
import { uniqueGroup } from '../support/unique-names.js';
import { waitFor } from '../support/wait-for.js';

const run = promisify(execFile);
const CANARY = 'canary-handler-Bearer-9f8e7d6c5b4a';
const LEAKY_TOPIC = 'onex.cmd.omniintelligence.leaky-request.v1';

@Injectable()
class LeakyHandler {
  @IntelligenceHandler(LEAKY_TOPIC)
  handle(): void {
    throw new Error(`upstream refused Authorization: Bearer ${CANARY} (password=${CANARY})`);
  }
}

@Module({ providers: [LeakyHandler] })
class LeakyModule {}

const SESSION = {
  session_id: 'e2e-session',
  events: ['Read', 'Edit', 'Bash', 'Read', 'Edit', 'Bash', 'Read', 'Edit', 'Bash'].map((tool) => ({
    tool,
  })),
};

/** Every pino line of every service booted here (Nest's static logger follows the newest app). */
const logs: string[] = [];

async function bootService(env: NodeJS.ProcessEnv) {
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  const config = loadServiceConfig({ LOG_LEVEL: 'debug', HEARTBEAT_INTERVAL_MS: '500', ...env });
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(config, stream), LeakyModule],
  }).compile();
  const app = moduleRef.createNestApplication();
  app.useLogger(app.get(Logger));
  await app.init();
  return { app };
}

/** The service on the test broker, with a group of its own, once it reports ready. */
async function bootOnKafka(name: string) {
  const service = await bootService({
    KAFKA_BROKERS: kafkaBrokers().join(','),
    KAFKA_GROUP_ID: uniqueGroup(name),
    SERVICE_NAME: name,
  });
  const server = http(service.app);
  await waitFor(async () => (await server.get('/health/ready')).status === 200, 'ready', 60_000);
  return { app: service.app, server };
}

async function publish(app: INestApplication, topic: string, payload: unknown): Promise<string> {
  const envelope = createEnvelope({ topic, payload });
  await app.get(EventBus).publish(topic, toOutgoing(envelope));
  return envelope.correlation_id;
}

describe('the intelligence service, whole app over HTTP', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('runs the pattern chain on the embedded bus and shows it in health and metrics', async () => {
    const service = await bootService({});
    app = service.app;
    await publish(app, PATTERN_LEARNING_TOPIC, SESSION);
    const store = app.get(PatternStore);
    await waitFor(
      async () => (await store.list()).some((record) => record.status === 'validated'),
      'validated',
    );
    const health = await http(app).get('/health').expect(200);
    expect(health.body).toMatchObject({ status: 'ok', info: { intelligence: { state: 'wired' } } });
    const metrics = (await http(app).get('/metrics').expect(200)).text;
    expect(metrics).toContain(
      `intelligence_messages_total{topic="${PATTERN_STORED_TOPIC}",outcome="success"}`,
    );
    expect(metrics).toMatch(
      /intelligence_handler_duration_seconds_count\{handler="PatternLifecycleNode\.[a-zA-Z]+",result="success"\} [1-9]/,
    );
  });

  it('never lets a secret from a handler error reach the logs, health, metrics or dead letters', async () => {
    const service = await bootService({});
    app = service.app;
    const observed: string[] = [];
    await app.get(EventBus).subscribe(
      ['onex.dlq.commands.v1'],
      'e2e-dlq',
      (message) => {
        observed.push(JSON.stringify(message.headers), message.value?.toString() ?? '');
        return Promise.resolve();
      },
      { fromBeginning: true },
    );
    await publish(app, LEAKY_TOPIC, { note: 'innocent payload' });
    await waitFor(() => observed.length > 0, 'dead-lettered after retries', 30_000);
    const health = JSON.stringify((await http(app).get('/health')).body);
    const metrics = (await http(app).get('/metrics')).text;
    const text = logs.join('');
    expect(text).toContain('LeakyHandler.handle');
    expect(observed.join('\n')).toContain('[REDACTED]');
    for (const output of [text, health, metrics, observed.join('\n')]) {
      expect(output).not.toContain(CANARY);
    }
    expect(text).not.toContain('innocent payload');
  });

  it('runs the chain on the real broker, read back from Kafka', async () => {
    const reader = await new KafkaTopicReader().start([PATTERN_LIFECYCLE_TRANSITIONED_TOPIC]);
    try {
      app = (await bootOnKafka('service-e2e')).app;
      const correlationId = await publish(app, PATTERN_LEARNING_TOPIC, SESSION);
      await waitFor(
        () => reader.messages.some((m) => m.envelope.correlation_id === correlationId),
        'transitioned event on Kafka',
        60_000,
      );
    } finally {
      await reader.stop();
    }
  });

  it('keeps the text of malformed payloads out of logs, dead-letter headers, health and metrics', async () => {
    const payloadCanary = 'canary-payload-Zq81';
    const dlq = 'onex.dlq.commands.v1';
    const reader = await new RawTopicReader().start([dlq]);
    try {
      const service = await bootOnKafka('service-malformed');
      app = service.app;
      const { server } = service;
      const bus = app.get(EventBus);
      const bad = {
        json: `{"session_id": ${payloadCanary}}`,
        utf8: Buffer.concat([Buffer.from(`{"note":"${payloadCanary}`), Buffer.from([0xff, 0xfe])]),
        schema: toOutgoing(
          createEnvelope({
            topic: PATTERN_LEARNING_TOPIC,
            payload: { session_id: 7, events: [{ tool: 42, note: payloadCanary }], payloadCanary },
          }),
        ),
      };
      await bus.publish(PATTERN_LEARNING_TOPIC, { key: 'json', value: bad.json });
      await bus.publish(PATTERN_LEARNING_TOPIC, { key: 'utf8', value: bad.utf8 });
      await bus.publish(PATTERN_LEARNING_TOPIC, { ...bad.schema, key: 'schema' });
      await bus.publish(PATTERN_LEARNING_TOPIC, { key: 'tombstone', value: null });
      const letters = () =>
        reader.deadLettersOf(dlq, PATTERN_LEARNING_TOPIC).filter((m) => m.key !== null);
      await waitFor(() => letters().length >= 4, 'four dead letters', 60_000);
      const byKey = new Map(letters().map((letter) => [letter.key, letter]));
      expect(byKey.get('json')?.headers.failure_class).toBe('InvalidMessage:bad_json');
      expect(byKey.get('utf8')?.headers.failure_class).toBe('InvalidMessage:bad_utf8');
      expect(byKey.get('schema')?.headers.failure_class).toBe('PermanentHandlerError');
      expect(byKey.get('schema')?.headers.failure_reason).toMatch(/session_id/);
      // A tombstone stays a tombstone in its dead letter.
      expect(byKey.get('tombstone')?.headers.failure_class).toBe('InvalidMessage:empty');
      expect(byKey.get('tombstone')?.value).toBeNull();
      // The original bytes are kept as they were; only the headers describe the failure.
      expect(byKey.get('utf8')?.value).toEqual(bad.utf8);
      const headers = JSON.stringify(letters().map((letter) => letter.headers));
      const health = JSON.stringify((await server.get('/health')).body);
      const metrics = (await server.get('/metrics')).text;
      for (const output of [logs.join(''), headers, health, metrics]) {
        expect(output).not.toContain(payloadCanary);
      }
    } finally {
      await reader.stop();
    }
  });

  it('logs a failing probe with neither its query string nor an ERROR line', async () => {
    const token = 'canary-probe-Tok3n-55';
    const booted = logs.length;
    const service = await bootService({ KAFKA_BROKERS: '127.0.0.1:1', SERVICE_NAME: 'probe-logs' });
    app = service.app;
    // A wiring attempt against an unreachable broker is one ERROR line, without a stack.
    const bootLines = logs
      .slice(booted)
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg?: string; stack?: unknown });
    const bootErrors = bootLines.filter((line) => line.level >= 50);
    expect(bootErrors.map((line) => line.msg)).toEqual(['Intelligence wiring failed; cleaned up']);
    expect(bootErrors[0]?.stack).toBeUndefined();
    const seen = logs.length;
    await http(app).get(`/health?token=${token}&deep[nested]=${token}`).expect(503);
    await http(app).get(`/health/ready?token=${token}`).expect(503);
    const metrics = (await http(app).get(`/metrics?token=${token}`)).text;
    const lines = logs.slice(seen).join('');
    expect(lines + metrics).not.toContain(token);
    // The runtime logs its own wiring attempts; the probes themselves add no ERROR line.
    const probeErrors = lines
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg?: string; req?: unknown })
      .filter(
        (entry) =>
          entry.level >= 50 && (entry.req !== undefined || /health/i.test(entry.msg ?? '')),
      );
    expect(probeErrors).toEqual([]);
    // Each probe is one debug line: method, path and status.
    const probes = lines
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; req?: object; res?: object })
      .filter((entry) => entry.req !== undefined && entry.res !== undefined);
    expect(probes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 20,
          req: { id: expect.anything(), method: 'GET', url: '/health' },
          res: { statusCode: 503 },
        }),
      ]),
    );
  });

  it('demo command: runs the main job end to end and shuts down cleanly', async () => {
    const { stdout } = await run('node', ['dist/demo/demo.js'], {
      cwd: process.cwd(),
      env: { ...process.env, KAFKA_BROKERS: '', DATABASE_URL: '' },
    });
    expect(stdout).toContain('Intelligence demo on the embedded bus');
    expect(stdout).toMatch(/Patterns learned: +[1-9]\d* in \d+ batch/);
    expect(stdout).toMatch(/Lifecycle transitions: .*candidate → validated/);
    expect(stdout).toMatch(/Dead letters: +2/);
    expect(stdout).toMatch(/Handler latency over \d+ runs: p50/);
    expect(stdout).toContain('Health (GET /health):\n200');
    expect(stdout).toContain('Shut down cleanly');
  }, 120_000);

  it('demo on Kafka next to a running service: its own group, only its own run in the summary', async () => {
    app = (await bootOnKafka('service-next-to-demo')).app;
    // History on the shared topics; then the live service's counters, once they are still.
    await publish(app, PATTERN_LEARNING_TOPIC, SESSION);
    const live = app.get(DispatchEngine);
    const counters = () => JSON.stringify(live.metrics().perTopic);
    let last = counters();
    let stillSince = Date.now();
    await waitFor(
      () => {
        const now = counters();
        if (now !== last) [last, stillSince] = [now, Date.now()];
        return Date.now() - stillSince > 2_000 && now.includes(PATTERN_STORED_TOPIC);
      },
      'the live service done with its own work',
      60_000,
    );
    const before = counters();
    const { stdout } = await run('node', ['dist/demo/demo.js'], {
      cwd: process.cwd(),
      env: { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(','), DATABASE_URL: '' },
      timeout: 90_000,
    });
    expect(stdout).toMatch(/Intelligence demo on Kafka at .* \(group omniintelligence-demo-/);
    // Exactly what the embedded run reports: none of the history, all of its own run.
    expect(stdout).toMatch(/Patterns learned: +7 in 5 batch\(es\)/);
    expect(stdout).toMatch(/Patterns stored: +7 \(3 new, 4 merged\)/);
    expect(stdout).toMatch(
      /Lifecycle transitions: candidate → validated ×3, validated → deprecated ×1/,
    );
    expect(stdout).toMatch(/Dead letters: +2/);
    expect(stdout).toContain('Shut down cleanly');
    // The live service saw none of the demo's events.
    expect(counters()).toBe(before);
  }, 150_000);
});
