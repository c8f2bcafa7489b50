// One worker process of the fault suite: a headless Nest application context with
// IntelligenceModule on a real Kafka broker, consuming numbered messages of one topic and
// journaling every handled number. Started by `FaultWorker` (child_process.fork, IPC channel).
// Plain ESM on the BUILT library (`npm run test:faults` builds first): decorators are applied
// by calling them.
//
// Environment: KAFKA_BROKERS, GROUP_ID, TOPIC, JOURNAL, WORKER_NAME (required); KAFKA_CLIENT
// (kafkajs | platformatic, default kafkajs: the library's `bus.client`); CONCURRENCY (1),
// SESSION_TIMEOUT_MS (30000, the library default), HEARTBEAT_INTERVAL_MS (1000),
// DRAIN_TIMEOUT_MS (10000), HANDLE_MS (0), SLOW_KEY + SLOW_MS, TOPIC_PARTITIONS (6, for a topic
// the bus creates itself), ECHO_TOPIC (each handled number is published there through
// ctx.publish before it is journaled), ECHO_TICK_MS (0: off; else every so many ms, one
// message to each echo partition through the bus, payload without `n`, the next tick only once
// the last one settled: a publish is in flight whatever the handlers do, so a leader kill
// always stalls one), LOG_LEVEL (error,warn), MAX_LIFETIME_MS (600000), FAULTS_LIBRARY.
//
// The journal gets ONE line per handled message, written synchronously at the end of the
// handler on an fd opened for append, so a kill -9 loses nothing that was already handled:
// { n, pid, worker, partition, offset, key, start, end } (start/end: epoch ms, sub-ms, from
// performance.timeOrigin + performance.now(), comparable across processes).
//
// The worker keeps nothing of its own alive (its poll timer is unref'd, no IPC listener): if it
// stays up while the broker is down, the library keeps it up.
import 'reflect-metadata';
import { closeSync, openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { ConsoleLogger, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

// FAULTS_LIBRARY: another build of the library to run the same scenarios on (a path to its
// index.js), e.g. the last commit's, to see which faults it fails.
const library = process.env.FAULTS_LIBRARY
  ? pathToFileURL(process.env.FAULTS_LIBRARY).href
  : new URL('../../../dist/intelligence/index.js', import.meta.url).href;
const {
  EventBus,
  IntelligenceHandler,
  IntelligenceModule,
  IntelligenceNode,
  IntelligenceRuntime,
  PermanentHandlerError,
} = await import(library);

/** Header the fault producer mirrors the Kafka key into: handlers do not see the key itself. */
const KEY_HEADER = 'fault_key';

const env = process.env;
const required = (name) => {
  const value = env[name];
  if (!value) throw new Error(`fault-worker: ${name} is not set`);
  return value;
};
const int = (name, fallback) => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`fault-worker: bad ${name}`);
  return value;
};

const brokers = required('KAFKA_BROKERS').split(',');
const groupId = required('GROUP_ID');
const topic = required('TOPIC');
const journalPath = required('JOURNAL');
const worker = required('WORKER_NAME');
const kafkaClient = env.KAFKA_CLIENT || 'kafkajs';
if (!['kafkajs', 'platformatic'].includes(kafkaClient)) {
  throw new Error(
    `fault-worker: KAFKA_CLIENT must be kafkajs or platformatic (got ${kafkaClient})`,
  );
}
const concurrency = int('CONCURRENCY', 1);
const sessionTimeoutMs = int('SESSION_TIMEOUT_MS', 30_000);
const heartbeatIntervalMs = int('HEARTBEAT_INTERVAL_MS', 1_000);
const drainTimeoutMs = int('DRAIN_TIMEOUT_MS', 10_000);
const handleMs = int('HANDLE_MS', 0);
const slowKey = env.SLOW_KEY || undefined;
const slowMs = int('SLOW_MS', 0);
const topicPartitions = int('TOPIC_PARTITIONS', 6);
const echoTopic = env.ECHO_TOPIC || undefined;
const echoTickMs = int('ECHO_TICK_MS', 0);
/** Keys whose murmur2 partitions (both clients' default) cover all 6 partitions of a topic. */
const TICK_KEYS = Array.from({ length: 10 }, (_, i) => `tick-${String(i)}`);
const maxLifetimeMs = int('MAX_LIFETIME_MS', 600_000);
const logLevels = (env.LOG_LEVEL || 'error,warn').split(',').map((level) => level.trim());

const now = () => performance.timeOrigin + performance.now();
const send = (message) => {
  if (process.connected) process.send?.({ ...message, at: now() });
};

/** Nest's console logger, one JSON line per entry, every level on stderr. */
class StderrLogger extends ConsoleLogger {
  printMessages(messages, context, logLevel, _writeStreamType, ...rest) {
    super.printMessages(messages, context, logLevel, 'stderr', ...rest);
  }
}

const journalFd = openSync(journalPath, 'a');

class FaultNode {
  async handle(event, ctx) {
    const start = now();
    const payload = event.payload ?? {};
    const key = event.headers[KEY_HEADER] ?? null;
    if (payload.kind === 'fail') throw new PermanentHandlerError(`poison n=${payload.n}`);
    const ms = slowKey !== undefined && key === slowKey ? slowMs : handleMs;
    if (ms > 0) await sleep(ms);
    if (echoTopic) await ctx.publish(echoTopic, { n: payload.n });
    const line = {
      n: payload.n,
      pid: process.pid,
      worker,
      partition: event.partition,
      offset: event.offset,
      key,
      start,
      end: now(),
    };
    writeSync(journalFd, `${JSON.stringify(line)}\n`);
  }
}
IntelligenceNode({ name: 'fault-journal', kind: 'compute', version: '1.0.0' })(FaultNode);
Injectable()(FaultNode);
decorate(FaultNode, 'handle', IntelligenceHandler(topic));

class AppModule {}
Module({
  imports: [
    IntelligenceModule.forRoot({
      serviceName: 'fault-worker',
      bus: {
        kind: 'kafka',
        client: kafkaClient,
        brokers,
        clientId: `fault-${worker}`,
        groupId,
        sessionTimeoutMs,
        heartbeatIntervalMs,
        defaultPartitions: topicPartitions,
      },
      introspection: { enabled: false },
      dispatch: { concurrency, backoff: { initialMs: 50, maxMs: 500 } },
      wiring: { failFast: false, retry: { initialMs: 500, maxMs: 2_000 } },
      shutdown: { drainTimeoutMs },
      health: false,
    }),
  ],
  providers: [FaultNode],
})(AppModule);

/** Applies a method decorator the way TypeScript's legacy decorators do. */
function decorate(Class, method, decorator) {
  const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, method);
  const result = decorator(Class.prototype, method, descriptor);
  if (result) Object.defineProperty(Class.prototype, method, result);
}

// Bounded: a worker never outlives its test run, even if the parent forgot it.
setTimeout(() => process.exit(70), maxLifetimeMs).unref();
process.on('exit', () => closeSync(journalFd));

send({ type: 'starting', pid: process.pid });
const app = await NestFactory.createApplicationContext(AppModule, {
  logger: new StderrLogger({ logLevels, json: true, colors: false }),
  abortOnError: false,
});
// process.exit(0) once closed (the default re-raises the signal: no exit code).
app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
const runtime = app.get(IntelligenceRuntime);

let lastState;
let lastAssigned;
let lastCoordinator;
let lastCluster;
const report = () => {
  // The parent went away: do not linger.
  if (!process.connected) process.exit(71);
  const { state } = runtime.status();
  if (state !== lastState) {
    lastState = state;
    send({ type: 'state', state });
  }
  const partitions = [
    ...new Set(
      runtime
        .busHealth()
        .subscriptions.flatMap((subscription) => subscription.assigned[topic] ?? []),
    ),
  ].sort((a, b) => a - b);
  const assigned = partitions.join(',');
  if (assigned !== lastAssigned) {
    lastAssigned = assigned;
    send({ type: 'assigned', partitions });
  }
  const coordinator = runtime
    .busHealth()
    .subscriptions.find((subscription) => subscription.topics.includes(topic))?.coordinator;
  const seen = coordinator && `${String(coordinator.nodeId)}/${coordinator.state}`;
  if (coordinator && seen !== lastCoordinator) {
    lastCoordinator = seen;
    send({ type: 'coordinator', nodeId: coordinator.nodeId, state: coordinator.state });
  }
  const cluster = runtime.busHealth().cluster;
  const clusterSeen =
    cluster &&
    JSON.stringify([cluster.state, cluster.trouble, cluster.leaderChanges, cluster.produce.stalls]);
  if (cluster && clusterSeen !== lastCluster) {
    lastCluster = clusterSeen;
    send({
      type: 'cluster',
      state: cluster.state,
      trouble: cluster.trouble ?? [],
      leaderChanges: cluster.leaderChanges,
      produceStalls: cluster.produce.stalls,
      ...(cluster.recovered ? { recovered: cluster.recovered.trouble } : {}),
    });
  }
};
report();
setInterval(report, 200).unref();

if (echoTopic && echoTickMs > 0) {
  const bus = app.get(EventBus);
  let tick = 0;
  let inFlight = false;
  setInterval(() => {
    if (inFlight || runtime.status().state !== 'wired') return;
    inFlight = true;
    tick += 1;
    const value = JSON.stringify({ payload: { tick, worker } });
    bus
      .publishBatch(
        echoTopic,
        TICK_KEYS.map((key) => ({ key, value })),
      )
      .catch(() => undefined)
      .finally(() => {
        inFlight = false;
      });
  }, echoTickMs).unref();
}
