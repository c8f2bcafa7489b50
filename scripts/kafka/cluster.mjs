// Runs a real N-node Apache Kafka cluster (KRaft; every node broker + controller) on 127.0.0.1,
// for cluster-failover tests. Library: `startCluster()`. CLI:
// `node scripts/kafka/cluster.mjs up|down|status|kill9 <id>|restart <id>` (state in
// .cache/kafka/cluster.json). Node start, config and formatting come from broker.mjs.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { describeQuorum, findCoordinator } from './kafka-requests.mjs';
import { errorMessage, freePorts, isAlive, logTail, stopProcess } from '../lib/processes.mjs';
import {
  fetchJars,
  javaAsync,
  randomClusterId,
  spawnBroker,
  waitForBroker,
  writeServerProperties,
} from './broker.mjs';

export { describeQuorum, findCoordinator };

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const cliDataDir = path.join(root, '.cache/kafka/cluster-data');
const cliStateFile = path.join(root, '.cache/kafka/cluster.json');
const READY_TOPIC = 'cluster-ready-check';

/**
 * What every node gets on top of broker.mjs's server.properties (caller's `extraProps` win).
 * @param {number} nodes
 */
function clusterProps(nodes) {
  const rf = Math.min(3, nodes);
  const minIsr = Math.min(2, rf);
  return {
    // Replicated like a production cluster, so one lost node costs no acks=all write.
    'default.replication.factor': rf,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': rf,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': minIsr,
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': minIsr,
    // One leader per node for a default topic. The offsets topic gets two partitions per node,
    // so groups have coordinators on different nodes and a test can pick a group whose
    // coordinator is not the quorum leader (broker.mjs keeps one partition: one coordinator).
    'num.partitions': nodes,
    'offsets.topic.num.partitions': 2 * nodes,
    // A restarted node takes its preferred leaderships back within seconds (Kafka checks every
    // 300 s), so one kill's leadership moves do not pile every role onto one node for the next.
    'leader.imbalance.check.interval.seconds': 5,
    'group.initial.rebalance.delay.ms': 0,
    // The active controller fences a node (moves its leaderships, drops it from every ISR) once
    // its broker session lapses. Kafka's 9 s / 2 s would make each kill -9 cost ~9 s before a new
    // partition leader exists, and the restarted node can only re-register after the old session
    // expired; 3 s / 500 ms keeps failover and restarts fast and still tolerates GC pauses of
    // three JVMs on 2 cores. (broker.mjs sets the same for one node; stated here because the
    // failover tests depend on it.) The raft timeouts keep Kafka's defaults (2 s fetch timeout,
    // 1 s election timeout): a quorum leader's loss is noticed within ~2 s.
    'broker.session.timeout.ms': 3000,
    'broker.heartbeat.interval.ms': 500,
    // Fewer idle threads per JVM (defaults 8 and 3; nothing here is I/O bound).
    'num.io.threads': 2,
    'num.network.threads': 2,
  };
}

/**
 * @typedef {object} ClusterOptions
 * @property {number} [nodes] Node count, default 3; node ids are 1..nodes, all of them voters.
 * @property {number} [heapMb] JVM heap per node (-Xms and -Xmx), default 320.
 * @property {number} [readyTimeoutMs] Default 120000 (3 JVMs share 2 cores while starting).
 * @property {Record<string, string | number | boolean>} [extraProps] Merged into every node's
 *   server.properties, last.
 * @property {string} [baseDir] Parent of the node directories `node-<id>` (emptied first); a
 *   fresh temp dir by default. cleanup() deletes it.
 * @property {number[]} [ports] PLAINTEXT then CONTROLLER port of each node (2 * nodes numbers);
 *   free ones by default.
 *
 * @typedef {object} ClusterNode
 * @property {number} id node.id (broker id = controller id)
 * @property {number} port PLAINTEXT port
 * @property {number} controllerPort CONTROLLER port
 * @property {string} dataDir holds server.properties, broker.log and logs/
 * @property {string} configFile
 * @property {string} logFile
 * @property {number} pid Pid of the node's current JVM; changes on restart().
 * @property {boolean} alive Whether that JVM is running (read-only).
 *
 * @typedef {object} QuorumState
 * @property {number} leaderId The active controller (raft leader of __cluster_metadata), -1 if none.
 * @property {number} leaderEpoch
 * @property {number} highWatermark
 * @property {{ id: number, logEndOffset: number }[]} voters
 * @property {{ id: number, logEndOffset: number }[]} observers
 *
 * @typedef {object} PartitionState
 * @property {number} partition
 * @property {number} leader -1 while there is none
 * @property {number[]} replicas
 * @property {number[]} isr
 */

/**
 * Formats and starts a cluster; resolves once every broker is registered (unfenced) and an
 * RF-`min(3, nodes)` topic got a leader and a full ISR on every partition.
 * @param {ClusterOptions} [opts]
 */
export async function startCluster(opts = {}) {
  const count = opts.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1) throw new Error(`nodes must be >= 1 (${count})`);
  fetchJars();
  const ports = await freePorts(
    ...Array.from({ length: 2 * count }, (_, i) => opts.ports?.[i] ?? undefined),
  );
  const baseDir = opts.baseDir ?? (await mkdtemp(path.join(tmpdir(), 'kafka-cluster-')));
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  const nodes = ids.map((id) => {
    const dataDir = path.join(baseDir, `node-${id}`);
    return {
      id,
      port: /** @type {number} */ (ports[2 * (id - 1)]),
      controllerPort: /** @type {number} */ (ports[2 * (id - 1) + 1]),
      dataDir,
      configFile: path.join(dataDir, 'server.properties'),
      logFile: path.join(dataDir, 'broker.log'),
      pid: 0,
    };
  });
  const quorumVoters = nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',');
  const clusterId = randomClusterId();
  const extraProps = { ...clusterProps(count), ...opts.extraProps };
  await Promise.all(
    nodes.map(async (node) => {
      await rm(node.dataDir, { recursive: true, force: true });
      await mkdir(node.dataDir, { recursive: true });
      writeServerProperties(node.configFile, {
        port: node.port,
        controllerPort: node.controllerPort,
        dataDir: node.dataDir,
        nodeId: node.id,
        quorumVoters,
        extraProps,
      });
      // Static voters (controller.quorum.voters): a plain format, no --initial-controllers.
      await javaAsync([
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        node.configFile,
      ]);
    }),
  );
  const cluster = new KafkaCluster({
    baseDir,
    clusterId,
    heapMb: opts.heapMb ?? 320,
    readyTimeoutMs: opts.readyTimeoutMs ?? 120_000,
    nodes,
  });
  try {
    await cluster.launchAll();
  } catch (err) {
    await cluster.killAll();
    throw err;
  }
  return cluster;
}

/**
 * A handle on a running (or stopped) cluster described by `state` (as in cluster.json), e.g.
 * to kill or restart nodes of a cluster another process started.
 * @param {ClusterState} state
 */
export function attachCluster(state) {
  return new KafkaCluster(state);
}

/**
 * @typedef {object} ClusterState
 * @property {string} baseDir
 * @property {string} clusterId
 * @property {number} heapMb
 * @property {number} readyTimeoutMs
 * @property {Omit<ClusterNode, 'alive'>[]} nodes
 */

class KafkaCluster {
  /** @param {ClusterState} state */
  constructor(state) {
    this.baseDir = state.baseDir;
    this.clusterId = state.clusterId;
    this.heapMb = state.heapMb;
    this.readyTimeoutMs = state.readyTimeoutMs;
    /** @type {ClusterNode[]} */
    this.nodes = state.nodes.map((spec) => {
      const node = { ...spec };
      Object.defineProperty(node, 'alive', {
        enumerable: true,
        get: () => isAlive(node.pid),
      });
      return /** @type {ClusterNode} */ (node);
    });
  }

  /** Bootstrap addresses of all nodes, dead or alive. */
  get brokers() {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  /** Bootstrap addresses of the nodes whose JVM runs. */
  liveBrokers() {
    return this.nodes.filter((n) => n.alive).map((n) => `127.0.0.1:${n.port}`);
  }

  /** Ids of the nodes whose JVM runs. */
  liveIds() {
    return this.nodes.filter((n) => n.alive).map((n) => n.id);
  }

  /** @returns {ClusterState} */
  state() {
    const { baseDir, clusterId, heapMb, readyTimeoutMs } = this;
    const nodes = this.nodes.map((n) => ({
      id: n.id,
      port: n.port,
      controllerPort: n.controllerPort,
      dataDir: n.dataDir,
      configFile: n.configFile,
      logFile: n.logFile,
      pid: n.pid,
    }));
    return { baseDir, clusterId, heapMb, readyTimeoutMs, nodes };
  }

  /** @param {number} id */
  node(id) {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node ${id} (nodes ${this.nodes.map((n) => n.id).join(',')})`);
    return node;
  }

  /** Starts every node that is not running, in parallel; waits as startCluster does. */
  async launchAll() {
    const starting = this.nodes.filter((n) => !n.alive);
    for (const node of starting) node.pid = spawnBroker(node.configFile, node.logFile, this.heapMb);
    const deadline = Date.now() + this.readyTimeoutMs;
    await this.guard(starting, async () => {
      await Promise.all(
        starting.map((n) => waitForBroker([`127.0.0.1:${n.port}`], remaining(deadline), n.pid)),
      );
      await this.waitForRegistered(
        this.nodes.map((n) => n.id),
        remaining(deadline),
      );
      await this.checkReplication(remaining(deadline));
    });
  }

  /**
   * Runs `fn`; if it fails, the error gets the log tails of `nodes` appended.
   * @param {ClusterNode[]} nodes
   * @param {() => Promise<void>} fn
   */
  async guard(nodes, fn) {
    try {
      await fn();
    } catch (err) {
      const tails = nodes
        .map((n) => `--- last lines of ${n.logFile} ---\n${logTail(n.logFile, 25)}`)
        .join('\n');
      throw new Error(`${errorMessage(err)}\n${tails}`, { cause: err });
    }
  }

  /**
   * Creates an RF-min(3, N) topic, waits for a leader and a full ISR everywhere, deletes it.
   * @param {number} timeoutMs
   */
  async checkReplication(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    const rf = Math.min(3, this.nodes.length);
    await this.withAdmin(async (admin) => {
      // Not `waitForLeaders`: kafkajs asks for metadata right after the create and does not
      // retry the UNKNOWN_TOPIC_OR_PARTITION of a node that has not applied the topic yet.
      await admin.createTopics({
        topics: [{ topic: READY_TOPIC, numPartitions: this.nodes.length, replicationFactor: rf }],
        waitForLeaders: false,
        timeout: remaining(deadline),
      });
    });
    await this.waitForIsr(READY_TOPIC, rf, remaining(deadline));
    await this.withAdmin((admin) => admin.deleteTopics({ topics: [READY_TOPIC] }));
  }

  /**
   * Polls describeCluster (on the live nodes) until all of `ids` are registered brokers.
   * @param {number[]} ids
   * @param {number} timeoutMs
   */
  async waitForRegistered(ids, timeoutMs) {
    let seen = /** @type {number[]} */ ([]);
    await poll(
      async () => {
        seen = await this.registeredBrokers();
        return ids.every((id) => seen.includes(id));
      },
      timeoutMs,
      () => `brokers ${ids.join(',')} registered (describeCluster: ${seen.join(',') || '-'})`,
    );
  }

  /** Node ids of the brokers describeCluster lists (registered and unfenced). */
  async registeredBrokers() {
    const { brokers } = await this.withAdmin((admin) => admin.describeCluster());
    return brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  }

  /** @param {number} id SIGKILL, wait for the JVM to exit. */
  kill9(id) {
    return stopProcess(this.node(id).pid, 10_000, 'SIGKILL');
  }

  /** @param {number} id SIGTERM (controlled shutdown), SIGKILL after 30 s; waits for exit. */
  stopNode(id) {
    return stopProcess(this.node(id).pid, 30_000, 'SIGTERM');
  }

  /**
   * Stops the node if it runs, starts it again on its data and ports, waits until it is a
   * registered broker again (its replicas may still be catching up: see waitForIsr).
   * @param {number} id
   */
  async restart(id) {
    const node = this.node(id);
    await this.stopNode(id);
    node.pid = spawnBroker(node.configFile, node.logFile, this.heapMb);
    const deadline = Date.now() + this.readyTimeoutMs;
    await this.guard([node], async () => {
      await waitForBroker([`127.0.0.1:${node.port}`], remaining(deadline), node.pid);
      await this.waitForRegistered([id], remaining(deadline));
    });
  }

  /**
   * Stops every node: SIGTERM to all at once, SIGKILL for any still running after
   * `timeoutMs` (the last nodes' controlled shutdown can wait on a quorum that is gone).
   */
  async stop(timeoutMs = 15_000) {
    await Promise.all(this.nodes.map((n) => stopProcess(n.pid, timeoutMs, 'SIGTERM')));
  }

  /** SIGKILL to every node. */
  async killAll() {
    await Promise.all(this.nodes.map((n) => stopProcess(n.pid, 10_000, 'SIGKILL')));
  }

  /** Kills every node (its data goes anyway), deletes the base directory. */
  async cleanup() {
    await this.killAll();
    await rm(this.baseDir, { recursive: true, force: true });
  }

  /**
   * Runs `fn` with a connected kafkajs admin on the live nodes, disconnects it afterwards.
   * @template T
   * @param {(admin: import('kafkajs').Admin) => Promise<T>} fn
   * @returns {Promise<T>}
   */
  async withAdmin(fn) {
    const brokers = this.liveBrokers();
    if (brokers.length === 0) throw new Error('no node of the cluster is running');
    const admin = new Kafka({
      clientId: 'kafka-cluster-script',
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2_000,
      requestTimeout: 5_000,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    }).admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Leader, replicas and ISR of each partition of `topic` (metadata of a live node).
   * @param {string} topic
   * @returns {Promise<PartitionState[]>}
   */
  async partitions(topic) {
    const { topics } = await this.withAdmin((admin) =>
      admin.fetchTopicMetadata({ topics: [topic] }),
    );
    return (topics[0]?.partitions ?? [])
      .map((p) => ({
        partition: p.partitionId,
        leader: p.leader,
        replicas: [...p.replicas].sort((a, b) => a - b),
        isr: [...p.isr].sort((a, b) => a - b),
      }))
      .sort((a, b) => a.partition - b.partition);
  }

  /**
   * @param {string} topic
   * @param {number} partition
   */
  async partition(topic, partition) {
    const found = (await this.partitions(topic)).find((p) => p.partition === partition);
    if (!found) throw new Error(`no partition ${topic}-${partition}`);
    return found;
  }

  /**
   * Node id of the partition's leader, -1 while there is none.
   * @param {string} topic
   * @param {number} partition
   */
  async partitionLeader(topic, partition) {
    return (await this.partition(topic, partition)).leader;
  }

  /**
   * Node ids in the partition's ISR, ascending.
   * @param {string} topic
   * @param {number} partition
   */
  async isr(topic, partition) {
    return (await this.partition(topic, partition)).isr;
  }

  /**
   * Waits until every partition of `topic` has a leader and at least `n` replicas in its ISR.
   * @param {string} topic
   * @param {number} n
   * @param {number} [timeoutMs] default 60000
   * @returns {Promise<PartitionState[]>}
   */
  async waitForIsr(topic, n, timeoutMs = 60_000) {
    /** @type {PartitionState[]} */
    let last = [];
    await poll(
      async () => {
        last = await this.partitions(topic);
        return last.length > 0 && last.every((p) => p.leader >= 0 && p.isr.length >= n);
      },
      timeoutMs,
      () => `ISR >= ${n} on every partition of ${topic} (now ${describePartitions(last)})`,
    );
    return last;
  }

  /**
   * Waits until the partition has a leader that is not in `exclude`; resolves with its id.
   * @param {string} topic
   * @param {number} partition
   * @param {{ exclude?: number[], timeoutMs?: number }} [opts]
   */
  async waitForPartitionLeader(topic, partition, { exclude = [], timeoutMs = 30_000 } = {}) {
    let leader = -1;
    await poll(
      async () => {
        leader = await this.partitionLeader(topic, partition);
        return leader >= 0 && !exclude.includes(leader);
      },
      timeoutMs,
      () => `a leader of ${topic}-${partition} not in [${exclude.join(',')}] (now ${leader})`,
    );
    return leader;
  }

  /**
   * The node coordinating `groupId` (FindCoordinator to a live node; see findCoordinator).
   * Retries while the coordinator is not available (e.g. __consumer_offsets being created).
   * @param {string} groupId
   * @param {number} [timeoutMs] default 15000
   */
  async groupCoordinator(groupId, timeoutMs = 15_000) {
    let last = '';
    let nodeId = -1;
    await poll(
      async () => {
        for (const address of shuffled(this.liveBrokers())) {
          try {
            const found = await findCoordinator(address, groupId, 2_000);
            if (found.errorCode === 0) {
              nodeId = found.nodeId;
              return true;
            }
            last = `error code ${found.errorCode} from ${address}`;
          } catch (err) {
            last = `${address}: ${errorMessage(err)}`;
          }
        }
        return false;
      },
      timeoutMs,
      () => `a coordinator for group ${groupId} (${last})`,
    );
    return nodeId;
  }

  /**
   * The metadata quorum as the active controller reports it: DescribeQuorum, the request of
   * `kafka-metadata-quorum describe --status` (kafka-tools is not on the broker classpath, and
   * a JVM per lookup would be slow). Asks the live nodes' controller listeners first (only the
   * raft leader answers there; the others say NOT_LEADER_OR_FOLLOWER at once), then their
   * broker listeners (which forward to the active controller). Throws while there is no
   * leader, e.g. during an election.
   * @returns {Promise<QuorumState>}
   */
  async quorum() {
    /** @type {string[]} */
    const errors = [];
    const live = this.nodes.filter((n) => n.alive);
    const addresses = [
      ...live.map((n) => `127.0.0.1:${n.controllerPort}`),
      ...shuffled(live.map((n) => `127.0.0.1:${n.port}`)),
    ];
    for (const address of addresses) {
      try {
        const state = await describeQuorum(address, 2_000);
        if (state.errorCode === 0 && state.leaderId >= 0) {
          const { leaderId, leaderEpoch, highWatermark, voters, observers } = state;
          return { leaderId, leaderEpoch, highWatermark, voters, observers };
        }
        errors.push(`${address}: error code ${state.errorCode}, leader ${state.leaderId}`);
      } catch (err) {
        errors.push(`${address}: ${errorMessage(err)}`);
      }
    }
    throw new Error(`no node described the metadata quorum (${errors.join('; ') || 'none alive'})`);
  }

  /**
   * Node id of the active controller (raft leader of the metadata quorum). Not
   * describeCluster's controller id: KRaft brokers report a random broker there.
   */
  async quorumLeader() {
    return (await this.quorum()).leaderId;
  }

  /**
   * Waits until the metadata quorum has a leader that is not in `exclude`; resolves with its id.
   * @param {{ exclude?: number[], timeoutMs?: number }} [opts]
   */
  async waitForQuorumLeader({ exclude = [], timeoutMs = 30_000 } = {}) {
    let leader = -1;
    let last = '';
    await poll(
      async () => {
        try {
          leader = await this.quorumLeader();
        } catch (err) {
          last = errorMessage(err);
          return false;
        }
        return !exclude.includes(leader);
      },
      timeoutMs,
      () => `a quorum leader not in [${exclude.join(',')}] (now ${leader}; ${last})`,
    );
    return leader;
  }
}

/** @param {number} deadline */
function remaining(deadline) {
  return Math.max(1, deadline - Date.now());
}

/**
 * Calls `check` every 250 ms until it resolves true; rejects with `what()` after `timeoutMs`.
 * A rejection of `check` counts as false (the last one is kept as the cause).
 * @param {() => Promise<boolean>} check
 * @param {number} timeoutMs
 * @param {() => string} what
 */
async function poll(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  /** @type {unknown} */
  let lastError;
  for (;;) {
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : `; last error: ${errorMessage(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}${why}`, {
        cause: lastError,
      });
    }
    await sleep(250);
  }
}

/** @param {PartitionState[]} partitions */
function describePartitions(partitions) {
  if (partitions.length === 0) return 'no partitions';
  return partitions
    .map((p) => `p${p.partition} leader ${p.leader} isr [${p.isr.join(',')}]`)
    .join('; ');
}

/**
 * @template T
 * @param {T[]} items
 */
function shuffled(items) {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = /** @type {[T, T]} */ ([copy[j], copy[i]]);
  }
  return copy;
}

// --- CLI --------------------------------------------------------------------------------------

/** @returns {ClusterState | null} */
function readCliState() {
  return existsSync(cliStateFile) ? JSON.parse(readFileSync(cliStateFile, 'utf8')) : null;
}

/** @param {KafkaCluster} cluster */
function writeCliState(cluster) {
  writeFileSync(cliStateFile, `${JSON.stringify(cluster.state(), null, 2)}\n`);
}

/** @param {KafkaCluster} cluster */
async function printStatus(cluster) {
  console.log(`bootstrap: ${cluster.brokers.join(',')}`);
  /** @type {number | string} */
  let quorumLeader = '-';
  /** @type {number[]} */
  let registered = [];
  if (cluster.liveIds().length > 0) {
    quorumLeader = await cluster.quorumLeader().catch((err) => `unknown (${errorMessage(err)})`);
    registered = await cluster.registeredBrokers().catch(() => []);
  }
  console.log(`quorum leader (active controller): ${quorumLeader}`);
  for (const n of cluster.nodes) {
    const roles = [
      n.alive ? `running (pid ${n.pid})` : 'down',
      registered.includes(n.id) ? 'registered' : 'not registered',
      ...(n.id === quorumLeader ? ['quorum leader'] : []),
    ];
    console.log(
      `node ${n.id}: 127.0.0.1:${n.port} controller :${n.controllerPort} ${roles.join(', ')} (log ${n.logFile})`,
    );
  }
}

/** @param {string[]} argv */
async function cli([command, arg]) {
  const state = readCliState();
  const cluster = state && attachCluster(state);
  const running = cluster !== null && cluster.liveIds().length > 0;
  switch (command) {
    case 'up': {
      if (running) {
        console.log('Kafka cluster already running');
        await printStatus(cluster);
        break;
      }
      const started = Date.now();
      const nodes = Number(process.env.KAFKA_CLUSTER_NODES ?? 3);
      const base = process.env.KAFKA_CLUSTER_BASE_PORT;
      const ports = base
        ? Array.from({ length: 2 * nodes }, (_, i) => Number(base) + i)
        : undefined;
      const fresh = await startCluster({ nodes, baseDir: cliDataDir, ports });
      writeCliState(fresh);
      console.log(`Kafka cluster ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      await printStatus(fresh);
      break;
    }
    case 'down':
      if (cluster) await cluster.cleanup();
      rmSync(cliStateFile, { force: true });
      console.log(
        running ? 'Kafka cluster stopped, data deleted' : 'Kafka cluster was not running',
      );
      break;
    case 'status':
      if (cluster) await printStatus(cluster);
      else console.log('Kafka cluster not running');
      break;
    case 'kill9':
    case 'restart': {
      if (!cluster) throw new Error('no cluster (run `up` first)');
      const id = Number(arg);
      if (command === 'kill9') await cluster.kill9(id);
      else await cluster.restart(id);
      writeCliState(cluster);
      await printStatus(cluster);
      break;
    }
    default:
      console.error('usage: node scripts/kafka/cluster.mjs up|down|status|kill9 <id>|restart <id>');
      process.exitCode = 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await cli(process.argv.slice(2));
}
