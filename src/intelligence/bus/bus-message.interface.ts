/** A message as it arrives from the bus: raw bytes, decoding is the dispatcher's job. */
export interface BusMessage {
  readonly topic: string;
  readonly partition: number;
  /** Offset within the partition, as a decimal string (Kafka offsets exceed 2^53). */
  readonly offset: string;
  /** Milliseconds since the epoch, as a decimal string. */
  readonly timestamp: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
}

/** A message to publish. */
export interface OutgoingMessage {
  /** Partitioning key: messages with the same key keep their order. */
  key?: string | Buffer | null;
  /** `null` is a tombstone: it stays null on every bus. */
  value: string | Buffer | null;
  headers?: Record<string, string>;
}

/**
 * Returned by a handler that is done with a message whose acknowledgement still waits on
 * `settled` (a dead-letter publish, say): the bus goes on with the next messages and counts
 * this one handled only once `settled` resolves; if it rejects, the message is delivered again.
 */
export interface PendingAck {
  readonly settled: Promise<void>;
}

/**
 * Handles one delivered message. Resolving acknowledges it (at once, or once the returned
 * `PendingAck` settles); throwing leaves it unacknowledged, so the bus delivers it again
 * (after a backoff, or after `RetryLaterError.delayMs`).
 */
export type MessageHandler = (message: BusMessage) => HandlerResult;

/** What a `MessageHandler` returns: nothing to acknowledge at once, or a `PendingAck`. */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- void: plain async handlers fit
export type HandlerResult = Promise<void | PendingAck>;

export interface SubscribeOptions {
  /**
   * Where a group with no committed offset starts: `true` at the beginning; `false` at the
   * end as of `subscribe()` (Kafka: pinned then, so nothing published after it is skipped).
   * @default false
   */
  fromBeginning?: boolean;
  /** Backoff before an unacknowledged message is delivered again. @default { initialMs: 100, maxMs: 10000 } */
  redelivery?: { initialMs: number; maxMs: number };
  /**
   * Messages of one partition handled at once; same-key messages keep their order and
   * commits never pass the lowest unfinished offset. @default 1
   */
  concurrency?: number;
  /**
   * How long a member that loses partitions in a rebalance, or closes, waits for their running
   * handlers before it lets go (what is still running then stays uncommitted). @default 10000
   */
  drainTimeoutMs?: number;
}

/** An open subscription: one member of a consumer group. */
export interface Subscription {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Stops delivery and commits what was handled. Idempotent. */
  close(): Promise<void>;
}

export type SubscriptionState = 'starting' | 'running' | 'crashed' | 'stopped';

export interface SubscriptionHealth {
  groupId: string;
  topics: string[];
  state: SubscriptionState;
  /** Partitions currently assigned to this member, by topic. */
  assigned: Record<string, number[]>;
  /** Messages behind the end of each assigned partition, by topic then partition, as last seen. */
  lag: Record<string, Record<number, number>>;
  /** Sanitized message of the consumer's current error: set only while it is not running. */
  lastError?: string;
  /** The last error the consumer recovered from, with when it happened and ended. */
  recoveredError?: RecoveredError;
  /** The group's coordinator as this member last found it (Kafka buses that track it). */
  coordinator?: CoordinatorHealth;
}

/** A member's view of its group coordinator: lost while it moves, found again after. */
export interface CoordinatorHealth {
  /** Node id of the coordinator, once known. */
  nodeId?: number;
  /** `lost`: heartbeats or commits fail because the coordinator moved or died. */
  state: 'found' | 'lost';
  /** While lost: since when (ISO-8601) and the sanitized error that showed it. */
  lostSince?: string;
  lastError?: string;
  /** Times the coordinator was lost and found again (on the same node or another). */
  failovers: number;
  /** The last failover: from which node to which, when it ended, how long it took. */
  lastFailover?: { from?: number; to: number; at: string; tookMs: number };
}

/**
 * What a Kafka bus sees of its cluster: the partitions of its topics (described every
 * `clusterWatchMs`), its publishes waiting on their acknowledgements, its members'
 * coordinators. Shown in health and metrics; never flips liveness or readiness.
 */
export interface ClusterHealth {
  /** `degraded` while a trouble below lasts. */
  state: 'healthy' | 'degraded';
  /** While degraded: since when (ISO-8601), and what (`under-replicated topic-0`, ...). */
  degradedSince?: string;
  trouble?: string[];
  /** ISO-8601 time of the last describe of the topics' partitions that succeeded. */
  checkedAt?: string;
  /** Sanitized error of the last describe, while describing fails. */
  lastError?: string;
  /** `topic-partition`s with fewer in-sync replicas than replicas. */
  underReplicated: string[];
  /** `topic-partition`s without a leader (an election is under way). */
  leaderless: string[];
  /** Leader moves seen since the bus connected, and the last one. */
  leaderChanges: number;
  lastLeaderChange?: { partition: string; from: number; to: number; at: string };
  produce: ProduceHealth;
  /** The last trouble that ended: what it was, when it began and ended. */
  recovered?: { trouble: string[]; since: string; recoveredAt: string; tookMs: number };
}

/** Publishes waiting on the cluster (acks=all waits for the in-sync replicas). */
export interface ProduceHealth {
  /** A publish has waited longer than the stall threshold (1 s) for its acknowledgement. */
  stalled: boolean;
  /** While stalled: when the oldest waiting publish began (ISO-8601). */
  stalledSince?: string;
  inFlight: number;
  /** Publishes that took longer than the threshold, and the last of them. */
  stalls: number;
  lastStall?: { topic: string; at: string; tookMs: number; error?: string };
}

export interface RecoveredError {
  error: string;
  /** ISO-8601 time of the error. */
  at: string;
  /** ISO-8601 time the consumer was running again. */
  recoveredAt: string;
}

export interface BusHealth {
  kind: string;
  connected: boolean;
  /** Broker addresses with any credentials removed. */
  brokers: string[];
  subscriptions: SubscriptionHealth[];
  /** Sanitized message of the bus's current error (connecting or publishing), if any. */
  lastError?: string;
  /** The last bus error recovered from, with when it happened and ended. */
  recoveredError?: RecoveredError;
  /** Kafka buses: partitions, produce stalls and coordinators of the cluster. */
  cluster?: ClusterHealth;
}
