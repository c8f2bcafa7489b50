// Runs a real single-node Apache Kafka broker (KRaft, combined broker + controller) on 127.0.0.1.
// Library: `startBroker()` for tests. CLI: `node scripts/kafka/broker.mjs up|down|status|kill9|restart`.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { errorMessage, freePorts, isAlive, logTail, stopProcess } from '../lib/processes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const javaBaseArgs = [
  `-Dlog4j2.configurationFile=${path.join(here, 'log4j2.properties')}`,
  '-cp',
  path.join(root, '.cache/kafka/libs/*'),
];
const devDataDir = path.join(root, '.cache/kafka/dev-data');
const devStateFile = path.join(root, '.cache/kafka/dev.json');

/**
 * @typedef {object} BrokerOptions
 * @property {number} [port] PLAINTEXT port; a free one by default.
 * @property {number} [controllerPort] CONTROLLER port; a free one by default.
 * @property {string} [dataDir] Reused if it already holds formatted storage; a fresh temp dir by default.
 * @property {number} [heapMb] JVM heap (-Xms and -Xmx), default 384.
 * @property {number} [readyTimeoutMs] Default 90000.
 * @property {Record<string, string | number | boolean>} [extraProps] Merged into server.properties.
 * @property {string[]} [formatArgs] Extra arguments of the storage format, e.g.
 *   `['--add-scram', 'SCRAM-SHA-512=[name=alice,password=secret]']` (SCRAM users exist from the start).
 *
 * @typedef {object} BrokerHandle
 * @property {string[]} brokers e.g. ['127.0.0.1:PORT'], for kafkajs.
 * @property {number} port
 * @property {number} controllerPort
 * @property {string} dataDir
 * @property {number} pid Pid of the current broker JVM; changes on restart().
 * @property {string} logFile
 * @property {() => Promise<void>} stop SIGTERM, wait for exit (SIGKILL after 30 s).
 * @property {() => Promise<void>} kill9 SIGKILL, wait for exit.
 * @property {() => Promise<void>} restart Stop if running, start on the same data dir and ports.
 * @property {() => Promise<void>} cleanup Stop if running, delete the data dir.
 */

/**
 * Starts a broker as a detached child (it survives the caller; stop it by pid) and waits until
 * it serves requests.
 * @param {BrokerOptions} [opts]
 * @returns {Promise<BrokerHandle>}
 */
export async function startBroker(opts = {}) {
  fetchJars();
  const [port, controllerPort] = await freePorts(opts.port, opts.controllerPort);
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'kafka-test-')));
  await mkdir(dataDir, { recursive: true });
  const configFile = path.join(dataDir, 'server.properties');
  const logFile = path.join(dataDir, 'broker.log');
  const heapMb = opts.heapMb ?? 384;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;

  writeServerProperties(configFile, { port, controllerPort, dataDir, extraProps: opts.extraProps });
  if (!existsSync(path.join(dataDir, 'logs', 'meta.properties'))) {
    java([
      'kafka.tools.StorageTool',
      'format',
      '-t',
      randomClusterId(),
      '-c',
      configFile,
      ...(opts.formatArgs ?? []),
    ]);
  }

  /** @type {BrokerHandle} */
  const handle = {
    brokers: [`127.0.0.1:${port}`],
    port,
    controllerPort,
    dataDir,
    pid: 0,
    logFile,
    stop: () => stopPid(handle.pid),
    kill9: () => stopPid(handle.pid, 10_000, 'SIGKILL'),
    restart: async () => {
      await handle.stop();
      await launch();
    },
    cleanup: async () => {
      await handle.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };

  const launch = async () => {
    handle.pid = spawnBroker(configFile, logFile, heapMb);
    try {
      await waitForBroker(handle.brokers, readyTimeoutMs, handle.pid);
    } catch (err) {
      await stopPid(handle.pid, 5_000);
      throw new Error(
        `${errorMessage(err)}\n--- last lines of ${logFile} ---\n${logTail(logFile)}`,
        { cause: err },
      );
    }
  };

  await launch();
  return handle;
}

/**
 * Polls with a kafkajs admin client every 250 ms until the broker answers a metadata request.
 * @param {string[]} brokers
 * @param {number} timeoutMs
 * @param {number} [pid] If given, fail as soon as this process is gone.
 */
export async function waitForBroker(brokers, timeoutMs, pid) {
  const kafka = new Kafka({
    clientId: 'kafka-ready-check',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    requestTimeout: 5_000,
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pid !== undefined && !isAlive(pid)) throw new Error(`Kafka process ${pid} exited`);
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return;
    } catch (err) {
      if (Date.now() >= deadline) {
        throw new Error(
          `Kafka at ${brokers.join(',')} not ready after ${timeoutMs} ms: ${errorMessage(err)}`,
          { cause: err },
        );
      }
    } finally {
      await admin.disconnect();
    }
    await sleep(250);
  }
}

/**
 * Sends `signal` to `pid` and waits for it to exit; escalates to SIGKILL after `timeoutMs`.
 * Resolves immediately if the process is not running.
 * @param {number} pid
 * @param {number} [timeoutMs]
 * @param {NodeJS.Signals} [signal]
 */
export function stopPid(pid, timeoutMs = 30_000, signal = 'SIGTERM') {
  return stopProcess(pid, timeoutMs, signal);
}

/** Runs fetch.sh: downloads the jars into .cache/kafka/libs unless they match the pom. */
export function fetchJars() {
  const res = spawnSync('bash', [path.join(here, 'fetch.sh')], { stdio: 'inherit' });
  if (res.status !== 0) throw new Error(`fetch.sh failed (${res.error?.message ?? res.status})`);
}

/**
 * Writes a combined broker + controller server.properties. Defaults: node 1, the only voter.
 * @param {string} file
 * @param {{ port: number, controllerPort: number, dataDir: string, nodeId?: number,
 *   quorumVoters?: string, extraProps?: Record<string, string | number | boolean> }} cfg
 *   `quorumVoters`: `controller.quorum.voters`, e.g. `1@127.0.0.1:9093,2@127.0.0.1:9095`.
 */
export function writeServerProperties(
  file,
  { port, controllerPort, dataDir, nodeId = 1, quorumVoters, extraProps },
) {
  const props = {
    'process.roles': 'broker,controller',
    'node.id': nodeId,
    'controller.quorum.voters': quorumVoters ?? `${nodeId}@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': path.join(dataDir, 'logs'),
    // Internal topics must fit on one broker (RF 3 leaves groups without a coordinator forever);
    // one partition each keeps their lazy creation fast.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'share.coordinator.state.topic.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    'num.partitions': 1,
    'auto.create.topics.enable': true,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    // After kill -9 the restarted broker cannot re-register until its old session expires
    // (default 9 s); a short session makes crash/restart tests fast.
    'broker.heartbeat.interval.ms': 500,
    'broker.session.timeout.ms': 3000,
    // The log cleaner eagerly allocates this on heap (default 128 MiB): most of the broker's RSS.
    'log.cleaner.dedupe.buffer.size': 16 * 1024 * 1024,
    ...extraProps,
  };
  const lines = Object.entries(props).map(([key, value]) => `${key}=${value}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Same shape as `kafka-storage random-uuid` (16 random bytes, base64url), minus a JVM start. */
export function randomClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Runs a main class on the Kafka classpath, synchronously.
 * @param {string[]} args
 * @returns {string} its stdout
 */
export function java(args) {
  const res = spawnSync('java', [...javaBaseArgs, ...args], { encoding: 'utf8' });
  if (res.status !== 0) {
    throw new Error(
      `java ${args.join(' ')} failed: ${res.error?.message ?? res.stdout + res.stderr}`,
    );
  }
  return res.stdout;
}

/**
 * java() without blocking the event loop, e.g. to format several nodes at once.
 * @param {string[]} args
 * @returns {Promise<string>} its stdout
 */
export function javaAsync(args) {
  return new Promise((resolve, reject) => {
    execFile('java', [...javaBaseArgs, ...args], (err, stdout, stderr) => {
      if (err)
        reject(new Error(`java ${args.join(' ')} failed: ${stdout}${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * Starts `kafka.Kafka` detached (it survives the caller), stdout and stderr appended to `logFile`.
 * @param {string} configFile
 * @param {string} logFile
 * @param {number} heapMb
 * @returns {number} pid
 */
export function spawnBroker(configFile, logFile, heapMb) {
  const out = openSync(logFile, 'a');
  try {
    const args = [
      `-Xms${heapMb}m`,
      `-Xmx${heapMb}m`,
      '-XX:+UseSerialGC',
      // C1 only: starts ~0.5 s faster; kafkajs, not the broker, bounds throughput in tests.
      '-XX:TieredStopAtLevel=1',
      ...javaBaseArgs,
      'kafka.Kafka',
      configFile,
    ];
    const child = spawn('java', args, { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    return /** @type {number} */ (child.pid);
  } finally {
    closeSync(out);
  }
}

/**
 * @returns {{ pid: number, port: number, controllerPort: number, dataDir: string,
 *   logFile: string } | null}
 */
function readDevState() {
  return existsSync(devStateFile) ? JSON.parse(readFileSync(devStateFile, 'utf8')) : null;
}

/** @param {number} port */
async function devUp(port) {
  const cold = !existsSync(path.join(devDataDir, 'logs', 'meta.properties'));
  const started = Date.now();
  const broker = await startBroker({ dataDir: devDataDir, port, controllerPort: port + 1 });
  const { pid, controllerPort, dataDir, logFile } = broker;
  writeFileSync(
    devStateFile,
    `${JSON.stringify({ pid, port, controllerPort, dataDir, logFile }, null, 2)}\n`,
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`Kafka ready at ${broker.brokers[0]} (${cold ? 'cold' : 'warm'} start ${seconds}s)`);
}

/** @param {string | undefined} command */
async function cli(command) {
  const state = readDevState();
  const running = state !== null && isAlive(state.pid);
  const where = state && `127.0.0.1:${state.port} (pid ${state.pid}, log ${state.logFile})`;
  switch (command) {
    case 'up':
      if (running) console.log(`Kafka already running at ${where}`);
      else await devUp(Number(process.env.KAFKA_PORT ?? 9092));
      break;
    case 'down':
      if (state) await stopPid(state.pid);
      rmSync(devStateFile, { force: true });
      console.log(running ? 'Kafka stopped' : 'Kafka was not running');
      break;
    case 'status':
      console.log(running ? `Kafka running at ${where}` : 'Kafka not running');
      break;
    case 'kill9':
      if (state) await stopPid(state.pid, 10_000, 'SIGKILL');
      console.log(
        running ? `Kafka killed with SIGKILL (pid ${state.pid})` : 'Kafka was not running',
      );
      break;
    case 'restart':
      if (state) await stopPid(state.pid);
      await devUp(state?.port ?? Number(process.env.KAFKA_PORT ?? 9092));
      break;
    default:
      console.error('usage: node scripts/kafka/broker.mjs up|down|status|kill9|restart');
      process.exitCode = 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await cli(process.argv[2]);
}
