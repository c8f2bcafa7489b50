export interface StartClusterOptions {
  /** Node count, default 3; ids 1..nodes, every node broker + controller (a voter). */
  nodes?: number;
  /** JVM heap per node in MB, default 320. */
  heapMb?: number;
  /** Default 120000; also bounds restart(). */
  readyTimeoutMs?: number;
  /** Merged into every node's server.properties, last. */
  extraProps?: Record<string, string | number | boolean>;
  /** Parent of the node directories `node-<id>` (emptied first); a fresh temp dir by default. */
  baseDir?: string;
  /** PLAINTEXT then CONTROLLER port of each node (2 * nodes numbers); free ones by default. */
  ports?: number[];
}

export interface ClusterNode {
  id: number;
  port: number;
  controllerPort: number;
  dataDir: string;
  configFile: string;
  logFile: string;
  /** Pid of the node's current JVM; changes on restart(). */
  pid: number;
  /** Whether that JVM is running. */
  readonly alive: boolean;
}

export interface ReplicaState {
  id: number;
  logEndOffset: number;
}

export interface QuorumState {
  /** The active controller (raft leader of __cluster_metadata). */
  leaderId: number;
  leaderEpoch: number;
  highWatermark: number;
  voters: ReplicaState[];
  observers: ReplicaState[];
}

export interface PartitionState {
  partition: number;
  /** -1 while there is none. */
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface ClusterState {
  baseDir: string;
  clusterId: string;
  heapMb: number;
  readyTimeoutMs: number;
  nodes: Omit<ClusterNode, 'alive'>[];
}

export interface WaitForLeaderOptions {
  exclude?: number[];
  timeoutMs?: number;
}

export interface ClusterHandle {
  readonly baseDir: string;
  readonly clusterId: string;
  /** Bootstrap addresses of all nodes, dead or alive. */
  readonly brokers: string[];
  readonly nodes: ClusterNode[];
  liveBrokers(): string[];
  liveIds(): number[];
  node(id: number): ClusterNode;
  state(): ClusterState;

  /** SIGKILL, waits for the JVM to exit. */
  kill9(id: number): Promise<void>;
  /** SIGTERM (controlled shutdown), SIGKILL after 30 s; waits for exit. */
  stopNode(id: number): Promise<void>;
  /** Stops the node if running, starts it on its data and ports, waits until it is registered. */
  restart(id: number): Promise<void>;
  /** SIGTERM to every node at once, SIGKILL after `timeoutMs` (default 15000). */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL to every node. */
  killAll(): Promise<void>;
  /** Kills every node, deletes baseDir. */
  cleanup(): Promise<void>;

  /** Node ids describeCluster lists (registered, unfenced brokers), ascending. */
  registeredBrokers(): Promise<number[]>;
  waitForRegistered(ids: number[], timeoutMs: number): Promise<void>;
  partitions(topic: string): Promise<PartitionState[]>;
  partition(topic: string, partition: number): Promise<PartitionState>;
  /** Node id of the partition's leader, -1 while there is none. */
  partitionLeader(topic: string, partition: number): Promise<number>;
  /** Node ids in the partition's ISR, ascending. */
  isr(topic: string, partition: number): Promise<number[]>;
  /** Until every partition of `topic` has a leader and >= `n` replicas in its ISR. */
  waitForIsr(topic: string, n: number, timeoutMs?: number): Promise<PartitionState[]>;
  waitForPartitionLeader(
    topic: string,
    partition: number,
    opts?: WaitForLeaderOptions,
  ): Promise<number>;
  /** Node id coordinating the consumer group (FindCoordinator). */
  groupCoordinator(groupId: string, timeoutMs?: number): Promise<number>;
  /** The metadata quorum as the active controller reports it (DescribeQuorum). */
  quorum(): Promise<QuorumState>;
  /** Node id of the active controller; not describeCluster's controller id. */
  quorumLeader(): Promise<number>;
  waitForQuorumLeader(opts?: WaitForLeaderOptions): Promise<number>;
}

export function startCluster(opts?: StartClusterOptions): Promise<ClusterHandle>;
export function attachCluster(state: ClusterState): ClusterHandle;
/** DescribeQuorum v0 for __cluster_metadata-0 to one broker or controller listener. */
export function describeQuorum(
  address: string,
  timeoutMs?: number,
): Promise<QuorumState & { errorCode: number }>;
/** FindCoordinator v3 (group key) to one broker. */
export function findCoordinator(
  address: string,
  groupId: string,
  timeoutMs?: number,
): Promise<{ errorCode: number; nodeId: number; host: string | null; port: number }>;
