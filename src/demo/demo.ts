import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { Logger } from 'nestjs-pino';
import { AppModule } from '../app.module.js';
import {
  createEnvelope,
  DispatchEngine,
  EventBus,
  IntelligenceDatabase,
  IntelligenceRuntime,
  toOutgoing,
} from '../intelligence/index.js';
import {
  PATTERN_LEARNING_TOPIC,
  PATTERN_LIFECYCLE_TRANSITION_TOPIC,
  PATTERN_PROMOTION_THRESHOLD,
  PatternStore,
} from '../nodes/index.js';
import { loadServiceConfig } from '../service.config.js';
import { DemoObserver } from './demo-observer.js';
import { summaryLines } from './demo-report.js';
import { INVALID_SESSION, SAMPLE_SESSIONS } from './sample-sessions.js';

const DEADLINE_MS = 60_000;
const print = (...lines: string[]) => {
  for (const line of lines) process.stdout.write(`${line}\n`);
};

/**
 * Runs the service's main job end to end: sessions in, patterns learned, stored, promoted.
 * On Kafka the run keeps to itself: its nodes' topics are mapped into a namespace of the run
 * (`onex.<kind>.omniintelligence-demo-<run>.<event>.v1`), its group is its own and starts at
 * the end, and it counts only what its own commands caused. A live service on the same
 * broker neither sees the demo's events nor lends it its history or partitions.
 * With `DATABASE_URL` the patterns are kept in PostgreSQL (migrated on boot unless
 * `DATABASE_MIGRATE_ON_BOOT=false`): a second run finds its patterns stored, merged, not new.
 */
async function main(): Promise<void> {
  const loaded = loadServiceConfig({
    LOG_LEVEL: 'error',
    DATABASE_MIGRATE_ON_BOOT: 'true',
    ...process.env,
    PORT: '0',
  });
  const onKafka = !(loaded.bus instanceof EventBus) && loaded.bus.kind === 'kafka';
  const runId = randomUUID().slice(0, 8);
  const namespace = `.${loaded.serviceName}-demo-${runId}.`;
  const topic = (name: string) =>
    onKafka ? name.replace(`.${loaded.serviceName}.`, namespace) : name;
  const config = onKafka
    ? {
        ...loaded,
        groupId: loaded.groupId ?? `${loaded.serviceName}-demo-${runId}`,
        startFrom: 'latest' as const,
        topicMap: topic,
      }
    : loaded;
  const where =
    onKafka && !(loaded.bus instanceof EventBus) && loaded.bus.kind === 'kafka'
      ? `Kafka at ${loaded.bus.brokers.join(',')} (group ${String(config.groupId)}, run ${runId})`
      : 'the embedded bus';
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
  if (wired.state !== 'wired') {
    await app.close(); // no background retry keeping the command alive
    throw new Error(`wiring failed: ${wired.lastResult?.error ?? 'unknown'}`);
  }
  const database = app.get(IntelligenceDatabase).health();
  const storeWhere = database ? `PostgreSQL at ${database.target}` : 'in memory';
  print(`Pattern store: ${storeWhere}`);

  const latencies: number[] = [];
  app.get(DispatchEngine).onLatency((_handler, _ok, ms) => latencies.push(ms));
  const bus = app.get(EventBus);
  const observer = new DemoObserver(print);
  await observer.start(bus, `demo-observer-${runId}`, topic);
  const publish = async (name: string, payload: unknown) => {
    const envelope = createEnvelope({ topic: topic(name), payload, source: 'demo' });
    observer.track(envelope.correlation_id);
    await bus.publish(topic(name), toOutgoing(envelope));
    return envelope.correlation_id;
  };

  print('', 'Feeding sample sessions:');
  const sessions: string[] = [];
  for (const session of SAMPLE_SESSIONS) {
    print(`→ ${session.session_id} (${String(session.events.length)} tool calls)`);
    sessions.push(await publish(PATTERN_LEARNING_TOPIC, session));
  }
  print(`→ ${INVALID_SESSION.session_id} (malformed on purpose)`);
  const invalid = await publish(PATTERN_LEARNING_TOPIC, INVALID_SESSION);
  await expectAll('every session learned and stored, the malformed one dead-lettered', () => [
    ...sessions.filter((id) => !observer.sessionDone(id)).map((id) => `session ${id}`),
    ...(observer.deadLettersOf(invalid).length > 0 ? [] : ['dead letter of the malformed session']),
  ]);
  const threshold = app.get<number>(PATTERN_PROMOTION_THRESHOLD);
  // A pattern promoted by an earlier run (a durable store) is stored as validated: no promotion.
  await expectAll('every pattern at the threshold promoted', () =>
    [...observer.patterns]
      .filter(([, pattern]) => pattern.candidateOccurrences >= threshold)
      .filter(([id]) => !observer.transitionsOfPattern(id).some((t) => t.to === 'validated'))
      .map(([id]) => `promotion of ${id}`),
  );

  const [first] = [...observer.patterns.keys()].sort();
  if (first) {
    if (observer.patterns.get(first)?.status === 'deprecated') {
      print(`→ ${first} is deprecated already (by an earlier run)`);
    } else {
      print(`→ deprecate ${first}`);
      const deprecate = await publish(PATTERN_LIFECYCLE_TRANSITION_TOPIC, {
        pattern_id: first,
        to_status: 'deprecated',
        reason: 'demo: superseded',
      });
      await expectAll('the deprecation', () =>
        observer.transitionsOf(deprecate).length > 0 ? [] : [`deprecation of ${first}`],
      );
    }
    print(`→ re-validate ${first} (illegal on purpose)`);
    const illegal = await publish(PATTERN_LIFECYCLE_TRANSITION_TOPIC, {
      pattern_id: first,
      to_status: 'validated',
      reason: 'demo: illegal on purpose',
    });
    await expectAll('the illegal transition dead-lettered', () =>
      observer.deadLettersOf(illegal).length > 0 ? [] : [`dead letter of re-validating ${first}`],
    );
  }

  const store = { where: storeWhere, total: (await app.get(PatternStore).list()).length };
  for (const line of summaryLines(app.get(DispatchEngine).metrics(), observer, latencies, store))
    print(line);
  print('', 'Health (GET /health):', await healthBody(app));
  await observer.stop();
  await app.close();
  print(
    '',
    `Shut down cleanly: drained, shutdown introspection published, cleanup done (state ${runtime.status().state}).`,
  );
}

/** Waits until `missing()` is empty, at most 60 s; then fails naming what is still missing. */
async function expectAll(what: string, missing: () => string[]): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const left = missing();
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`${what}: still missing after 60 s: ${left.join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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
