import type { INestApplication } from '@nestjs/common';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { PassThrough } from 'node:stream';
import { Logger } from 'nestjs-pino';
import { AppModule } from '../../../src/app.module.js';
import {
  createEnvelope,
  EventBus,
  IntelligenceRuntime,
  toOutgoing,
  type BusMessage,
} from '../../../src/intelligence/index.js';
import { loadServiceConfig, type ServiceConfig } from '../../../src/service.config.js';
import { http } from '../../support/http.js';

/** Read, Edit, Bash three times: 4 patterns; "Read Edit Bash" (3 occurrences) is promoted. */
export const SESSION = {
  session_id: 'postgres-e2e-session',
  events: ['Read', 'Edit', 'Bash', 'Read', 'Edit', 'Bash', 'Read', 'Edit', 'Bash'].map((tool) => ({
    tool,
  })),
};

/** A fast background re-wiring, so a spec sees the retry within a second. */
export const FAST_RETRY = { retry: { initialMs: 100, maxMs: 300 } };

export interface BootOptions {
  /** Fields of the service config the environment cannot set (wiring, topicMap, ...). */
  overrides?: Partial<ServiceConfig>;
  /** Changes to the testing module before it compiles (e.g. a wrapped PatternStore). */
  configure?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/**
 * The whole service (`AppModule`, as `npm start` configures it from `env`) in this process, its
 * pino lines appended to `logs` (one array per spec: Nest's static logger follows the newest
 * app). Resolves once `init()` ran, wired or not; the caller closes it.
 */
export async function bootService(
  env: NodeJS.ProcessEnv,
  logs: string[],
  { overrides = {}, configure = (builder) => builder }: BootOptions = {},
): Promise<INestApplication> {
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  const config = { ...loadServiceConfig({ LOG_LEVEL: 'debug', ...env }), ...overrides };
  const moduleRef = await configure(
    Test.createTestingModule({ imports: [AppModule.forRoot(config, stream)] }),
  ).compile();
  const app = moduleRef.createNestApplication();
  app.useLogger(app.get(Logger));
  await app.init();
  return app;
}

export async function publish(
  app: INestApplication,
  topic: string,
  payload: unknown,
  key?: string,
) {
  const envelope = createEnvelope({ topic, payload });
  await app.get(EventBus).publish(topic, toOutgoing(envelope, key));
  return envelope;
}

/** Payloads published on `topics` from now on (a consumer group of its own on the app's bus). */
export async function recordTopics(app: INestApplication, topics: string[], group: string) {
  const seen: { topic: string; payload: Record<string, unknown> }[] = [];
  const subscription = await app.get(EventBus).subscribe(
    topics,
    group,
    (message: BusMessage) => {
      const value = JSON.parse(message.value?.toString() ?? '{}') as {
        payload: Record<string, unknown>;
      };
      seen.push({ topic: message.topic, payload: value.payload });
      return Promise.resolve();
    },
    { fromBeginning: true },
  );
  return { seen, close: () => subscription.close() };
}

/** `GET /health` and `/health/ready`: status codes and the module's details. */
export async function healthOf(app: INestApplication) {
  const health = await http(app).get('/health');
  const ready = await http(app).get('/health/ready');
  const body = health.body as { details?: Record<string, Record<string, unknown>> };
  const details = body.details?.intelligence ?? {};
  return { status: health.status, ready: ready.status, details, text: JSON.stringify(body) };
}

export function wiringState(app: INestApplication): string {
  return app.get(IntelligenceRuntime).status().state;
}
