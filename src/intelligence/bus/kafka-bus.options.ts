import type { SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';

/** The Kafka client a `{ kind: 'kafka' }` bus talks through. */
export type KafkaClientName = 'kafkajs' | 'platformatic';

/**
 * Options of the Kafka event bus. The fields are kafkajs-typed and mean the same on both
 * clients (`ssl` and `sasl` are mapped to @platformatic/kafka's options).
 */
export interface KafkaBusOptions {
  kind: 'kafka';
  /**
   * The Kafka client: `'kafkajs'` (`KafkaEventBus`) or `'platformatic'`
   * (`PlatformaticKafkaEventBus`, on @platformatic/kafka, an optional peer dependency loaded only
   * when chosen: install `@platformatic/kafka@~1.35.0`; its 1.x line runs on Node 20, 2.x needs
   * Node >= 22). Both behave alike behind `EventBus`. With `'platformatic'`, SASL is `plain`,
   * `scram-sha-256`, `scram-sha-512` or `oauthbearer`, and `partitionsConsumedConcurrently` has
   * no effect (each partition is fetched and worked apart anyway).
   * @default 'kafkajs'
   */
  client?: KafkaClientName;
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  /** @default the module's `serviceName` */
  clientId?: string;
  /** Consumer group of the module's dispatchers. @default 'omniintelligence-hooks' */
  groupId?: string;
  /** TLS: `true` for the system CAs, or node `tls.connect` options, passed to the client as is. */
  ssl?: boolean | ConnectionOptions;
  /** SASL (plain, scram-sha-256, scram-sha-512, ...), kafkajs-typed; never logged. */
  sasl?: SASLOptions;
  /** Time to establish a TCP connection to a broker. @default 3000 */
  connectionTimeoutMs?: number;
  /** Retries when connecting before `connect()` fails with `BusConnectionError`. @default 3 */
  connectRetries?: number;
  /** Retries of a failing fetch/commit before the consumer counts as crashed and restarts. @default 5 */
  consumerRetries?: number;
  /** Retries of a failed produce request before `publish` fails. @default 5 */
  publishRetries?: number;
  /** Idempotent producer (no duplicates from producer retries). @default true */
  idempotent?: boolean;
  /** Compression of produced batches. @default 'none' */
  compression?: 'none' | 'gzip';
  /** Consumer session timeout. @default 30000 */
  sessionTimeoutMs?: number;
  /** Consumer heartbeat interval. @default 3000 */
  heartbeatIntervalMs?: number;
  /** How often handled offsets are committed (also on stop and rebalance). @default 1000 */
  commitIntervalMs?: number;
  /**
   * Longest a fetch waits on the broker for data. A fetch is not cut short, so this also bounds
   * how long a close waits; data still returns at once. @default 100
   */
  fetchMaxWaitMs?: number;
  /**
   * Batches kafkajs hands over at once (they are only queued: partitions are worked apart).
   * kafkajs only. @default 4
   */
  partitionsConsumedConcurrently?: number;
  /**
   * Messages of one partition fetched and not yet handled before that partition is paused
   * (resumed at half). A slow partition or key holds back only itself. @default 1000
   */
  maxBufferedPerPartition?: number;
  /** Create missing topics the bus subscribes or publishes to, with `defaultPartitions`. @default true */
  createTopics?: boolean;
  /** Partitions of topics the bus creates. @default 3 */
  defaultPartitions?: number;
  /**
   * How often the partitions of the bus's topics are described for health (under-replicated,
   * leaderless, leader moves: `BusHealth.cluster`); one metadata request each. 0: never.
   * @default 2000
   */
  clusterWatchMs?: number;
}
