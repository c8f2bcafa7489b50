import type { SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';

/** Options of the Kafka event bus (kafkajs). */
export interface KafkaBusOptions {
  kind: 'kafka';
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  /** @default the module's `serviceName` */
  clientId?: string;
  /** Consumer group of the module's dispatchers. @default 'omniintelligence-hooks' */
  groupId?: string;
  /** TLS: `true` for the system CAs, or node `tls.connect` options. Passed to kafkajs as is. */
  ssl?: boolean | ConnectionOptions;
  /** SASL (plain, scram-sha-256, scram-sha-512, ...). Passed to kafkajs as is; never logged. */
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
   * Longest a fetch waits on the broker for data. kafkajs cannot cut a fetch short, so this
   * also bounds how long a close waits; data still returns at once. @default 100
   */
  fetchMaxWaitMs?: number;
  /** Batches kafkajs hands over at once (they are only queued: partitions are worked apart). @default 4 */
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
}
