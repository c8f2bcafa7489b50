import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { Logger } from 'nestjs-pino';
import { AppModule } from '../app.module.js';
import {
  createEnvelope,
  DispatchEngine,
  EventBus,
  IntelligenceRuntime,
  toOutgoing,
} from '../intelligence/index.js';
import {
  PATTERN_LEARNING_TOPIC,
  PATTERN_LIFECYCLE_TRANSITION_TOPIC,
  PatternStore,
} from '../nodes/index.js';
import { loadServiceConfig } from '../service.config.js';
import { DemoObserver } from './demo-observer.js';
import { summaryLines } from './demo-report.js';
import { INVALID_SESSION, SAMPLE_SESSIONS } from './sample-sessions.js';

const QUIET_MS = 750;
const DEADLINE_MS = 60_000;
const print = (...lines: string[]) => {
  for (const line of lines) process.stdout.write(`${line}\n`);
};

/** Runs the service's main job end to end: sessions in, patterns learned, stored, promoted. */
async function main(): Promise<void> {
  const config = loadServiceConfig({ LOG_LEVEL: 'error', ...process.env, PORT: '0' });
  const where =
    config.bus instanceof EventBus || config.bus.kind === 'memory'
      ? 'the embedded bus'
      : `Kafka at ${config.bus.brokers.join(',')}`;
  print(`Intelligence demo on ${where}`);
  const app = await NestFactory.create(AppModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const runtime = app.get(IntelligenceRuntime);
  const wired = runtime.status();
  print(
    `Wired: ${String(wired.lastResult?.handlers ?? 0)} handlers on ${String(wired.lastResult?.topics?.length ?? 0)} topics (state ${wired.state})`,
  );
  if (wired.state !== 'wired')
    throw new Error(`wiring failed: ${wired.lastResult?.error ?? 'unknown'}`);

  const latencies: number[] = [];
  app.get(DispatchEngine).onLatency((_handler, _ok, ms) => latencies.push(ms));
  const bus = app.get(EventBus);
  const observer = new DemoObserver(print);
  await observer.start(bus);

  print('', 'Feeding sample sessions:');
  for (const session of SAMPLE_SESSIONS) {
    print(`→ ${session.session_id} (${String(session.events.length)} tool calls)`);
    await publish(bus, PATTERN_LEARNING_TOPIC, session);
  }
  print(`→ ${INVALID_SESSION.session_id} (malformed on purpose)`);
  await publish(bus, PATTERN_LEARNING_TOPIC, INVALID_SESSION);
  await settle(observer);

  const [first] = await storedPatternIds(app);
  if (first) {
    print(`→ deprecate ${first}`);
    await publish(bus, PATTERN_LIFECYCLE_TRANSITION_TOPIC, {
      pattern_id: first,
      to_status: 'deprecated',
      reason: 'demo: superseded',
    });
    await settle(observer);
    print(`→ re-validate ${first} (illegal on purpose)`);
    await publish(bus, PATTERN_LIFECYCLE_TRANSITION_TOPIC, {
      pattern_id: first,
      to_status: 'validated',
      reason: 'demo: illegal on purpose',
    });
    await settle(observer);
  }

  for (const line of summaryLines(app.get(DispatchEngine).metrics(), observer, latencies))
    print(line);
  print('', 'Health (GET /health):', await healthBody(app));
  await observer.stop();
  await app.close();
  print(
    '',
    `Shut down cleanly: drained, shutdown introspection published, cleanup done (state ${runtime.status().state}).`,
  );
}

async function publish(bus: EventBus, topic: string, payload: unknown): Promise<void> {
  await bus.publish(topic, toOutgoing(createEnvelope({ topic, payload, source: 'demo' })));
}

/** Waits until the chain has been quiet for a moment (bounded). */
async function settle(observer: DemoObserver): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (Date.now() - observer.lastActivity < QUIET_MS) {
    if (Date.now() > deadline) throw new Error('the chain did not settle within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function storedPatternIds(app: INestApplication): Promise<string[]> {
  const records = await app.get(PatternStore).list();
  return records.map((record) => record.pattern_id).sort();
}

async function healthBody(app: INestApplication): Promise<string> {
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  const response = await fetch(`http://127.0.0.1:${String(port)}/health`);
  const body = (await response.json()) as { status: string; details: unknown };
  return `${String(response.status)} ${JSON.stringify({ status: body.status, details: body.details }, null, 2)}`;
}

main().catch((error: unknown) => {
  process.stderr.write(`Demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
