import type { SubscribeOptions } from './bus-message.interface.js';
import type { KafkaBusOptions } from './kafka-bus.options.js';

/** What every consumer-group member of a Kafka bus (either client) is tuned with. */
export interface KafkaMemberSettings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  commitIntervalMs: number;
  fetchMaxWaitMs: number;
  retries: number;
  maxBufferedPerPartition: number;
}

/** The members' settings from the bus options, defaults applied. */
export function memberSettings(options: Omit<KafkaBusOptions, 'kind'>): KafkaMemberSettings {
  return {
    sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3_000,
    commitIntervalMs: options.commitIntervalMs ?? 1_000,
    fetchMaxWaitMs: options.fetchMaxWaitMs ?? 100,
    retries: options.consumerRetries ?? 5,
    maxBufferedPerPartition: options.maxBufferedPerPartition ?? 1_000,
  };
}

/** How long the coordinator waits for members to rejoin (at least); a revoke drain stays below half of it. */
export const REBALANCE_TIMEOUT_MS = 60_000;
const DEFAULT_DRAIN_MS = 10_000;

/** Longest a member waits for the running handlers of revoked partitions. */
export function drainBoundMs(options: SubscribeOptions, rebalanceTimeoutMs: number): number {
  return Math.min(options.drainTimeoutMs ?? DEFAULT_DRAIN_MS, rebalanceTimeoutMs / 2);
}
