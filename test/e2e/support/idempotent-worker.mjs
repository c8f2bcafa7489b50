// One worker process of test/e2e/postgres-redelivery-after-kill.e2e.spec.ts: a headless Nest
// application context with IntelligenceModule on a real Kafka broker and (with DATABASE_URL)
// the PostgreSQL resource, consuming one topic with ONE handler that has an `idempotencyKey`.
// Started by the spec (child_process.fork, IPC channel); plain ESM on the BUILT library (the
// spec runs `npm run build` first): decorators are applied by calling them.
//
// Environment: KAFKA_BROKERS, GROUP_ID, TOPIC, WORKER_NAME (required); DATABASE_URL (optional:
// without it the idempotency store is the in-memory default); MODE:
//   transaction  the handler inserts a row into handled_messages with ctx.transaction(), so the
//                row and the idempotency key commit together (needs DATABASE_URL);
//   journal      the handler appends a line to JOURNAL (synchronously: a kill -9 loses nothing
//                handled) and the library records the key after it returned.
// COMMIT_INTERVAL_MS (default 600000: no offset is committed while the test runs, so a killed
// worker's messages are redelivered), SESSION_TIMEOUT_MS (6000), MAX_LIFETIME_MS (120000).
//
// IPC to the parent: { type: 'state', state }, { type: 'assigned', partitions },
// { type: 'handled', id, attempt }, { type: 'metrics', duplicatesSkipped, invoked }.
import 'reflect-metadata';
import { closeSync, openSync, writeSync } from 'node:fs';
import { ConsoleLogger, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

const {
  DispatchEngine,
  IntelligenceHandler,
  IntelligenceModule,
  IntelligenceNode,
  IntelligenceRuntime,
} = await import(new URL('../../../dist/intelligence/index.js', import.meta.url).href);

const env = process.env;
const required = (name) => {
  const value = env[name];
  if (!value) throw new Error(`idempotent-worker: ${name} is not set`);
  return value;
};
const int = (name, fallback) => (env[name] ? Number(env[name]) : fallback);

const brokers = required('KAFKA_BROKERS').split(',');
const groupId = required('GROUP_ID');
const topic = required('TOPIC');
const worker = required('WORKER_NAME');
const databaseUrl = env.DATABASE_URL || undefined;
const mode = env.MODE || 'transaction';
if (mode === 'transaction' && !databaseUrl) {
  throw new Error('idempotent-worker: MODE=transaction needs DATABASE_URL');
}
const journalFd = mode === 'journal' ? openSync(required('JOURNAL'), 'a') : undefined;
const HANDLER = 'RedeliveryNode.handle';

const send = (message) => {
  if (process.connected) process.send?.(message);
};

/** Nest's console logger, JSON lines on stderr (the parent keeps them for a failure report). */
class StderrLogger extends ConsoleLogger {
  printMessages(messages, context, logLevel, _writeStreamType, ...rest) {
    super.printMessages(messages, context, logLevel, 'stderr', ...rest);
  }
}

class RedeliveryNode {
  async handle(event, ctx) {
    const id = String(event.payload?.id);
    if (mode === 'transaction') {
      await ctx.transaction((tx) =>
        tx.query('INSERT INTO handled_messages (message_id, worker) VALUES ($1, $2)', [id, worker]),
      );
    } else {
      writeSync(journalFd, `${JSON.stringify({ id, worker, pid: process.pid })}\n`);
    }
    send({ type: 'handled', id, attempt: ctx.attempt });
  }
}
IntelligenceNode({ name: 'redelivery-probe', kind: 'effect', version: '1.0.0' })(RedeliveryNode);
Injectable()(RedeliveryNode);
decorate(
  RedeliveryNode,
  'handle',
  IntelligenceHandler(topic, { idempotencyKey: (event) => event.envelopeId }),
);

class WorkerModule {}
Module({
  imports: [
    IntelligenceModule.forRoot({
      serviceName: 'redelivery-worker',
      bus: {
        kind: 'kafka',
        brokers,
        clientId: `redelivery-${worker}`,
        groupId,
        sessionTimeoutMs: int('SESSION_TIMEOUT_MS', 6_000),
        heartbeatIntervalMs: 500,
        commitIntervalMs: int('COMMIT_INTERVAL_MS', 600_000),
        fetchMaxWaitMs: 100,
        defaultPartitions: 1,
      },
      ...(databaseUrl ? { database: { connectionString: databaseUrl } } : {}),
      introspection: { enabled: false },
      dispatch: { backoff: { initialMs: 50, maxMs: 500 } },
      wiring: { retry: { initialMs: 200, maxMs: 1_000 } },
      health: false,
    }),
  ],
  providers: [RedeliveryNode],
})(WorkerModule);

/** Applies a method decorator the way TypeScript's legacy decorators do. */
function decorate(Class, method, decorator) {
  const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, method);
  const result = decorator(Class.prototype, method, descriptor);
  if (result) Object.defineProperty(Class.prototype, method, result);
}

// Bounded: a worker never outlives its test, even if the parent forgot it.
setTimeout(() => process.exit(70), int('MAX_LIFETIME_MS', 120_000)).unref();
process.on('exit', () => {
  if (journalFd !== undefined) closeSync(journalFd);
});

const app = await NestFactory.createApplicationContext(WorkerModule, {
  logger: new StderrLogger({ logLevels: ['error', 'warn'], json: true, colors: false }),
  abortOnError: false,
});
app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
const runtime = app.get(IntelligenceRuntime);
const engine = app.get(DispatchEngine);

let last = '';
const report = () => {
  if (!process.connected) process.exit(71); // the parent went away: do not linger
  const { state } = runtime.status();
  const assigned = [
    ...new Set(runtime.busHealth().subscriptions.flatMap((s) => s.assigned[topic] ?? [])),
  ];
  const stats = engine.metrics().perHandler[HANDLER];
  const now = JSON.stringify([state, assigned, stats?.duplicatesSkipped, stats?.invoked]);
  if (now === last) return;
  last = now;
  send({ type: 'state', state });
  send({ type: 'assigned', partitions: assigned });
  send({
    type: 'metrics',
    duplicatesSkipped: stats?.duplicatesSkipped ?? 0,
    invoked: stats?.invoked ?? 0,
  });
};
report();
setInterval(report, 100).unref();
