import { randomUUID } from 'node:crypto';
import type { DatabaseOptions } from './database/database.options.js';
import type { BusOption, IntelligenceModuleOptions, RetryPolicy } from './intelligence.options.js';
import { DEFAULT_GROUP_ID } from './intelligence.constants.js';
import type { LogSanitizerOptions } from './logging/log-sanitizer.js';

/** The module's options with every default applied; validated at boot. */
export interface IntelligenceConfig {
  serviceName: string;
  /** This app instance's identity in introspection and heartbeats. */
  instanceId: string;
  bus: BusOption;
  topicMap: (topic: string) => string;
  groupId: string;
  introspection: { enabled: boolean; heartbeatIntervalMs: number };
  dispatch: {
    maxAttempts: number;
    backoff: { initialMs: number; maxMs: number };
    deadLetter: boolean | { topic: string };
    retry: RetryPolicy;
    concurrency: number;
    handlerTimeoutMs: number;
    topicValidation: 'warn' | 'reject' | 'off';
    startFrom: 'earliest' | 'latest';
  };
  wiring: { failFast: boolean; retry: { initialMs: number; maxMs: number } | false };
  shutdown: { drainTimeoutMs: number; disconnectTimeoutMs: number };
  tracing: { enabled: boolean };
  logging: LogSanitizerOptions;
  database: DatabaseOptions | undefined;
}

export const INTELLIGENCE_CONFIG = Symbol('INTELLIGENCE_CONFIG');

export function resolveIntelligenceConfig(options: IntelligenceModuleOptions): IntelligenceConfig {
  const bus = options.bus ?? { kind: 'memory' };
  const kafkaGroup = 'kind' in bus && bus.kind === 'kafka' ? bus.groupId : undefined;
  return {
    serviceName: options.serviceName,
    instanceId: options.instanceId ?? randomUUID(),
    bus,
    topicMap: options.topicMap ?? ((topic) => topic),
    groupId: options.groupId ?? kafkaGroup ?? DEFAULT_GROUP_ID,
    introspection: {
      enabled: options.introspection?.enabled ?? true,
      heartbeatIntervalMs: options.introspection?.heartbeatIntervalMs ?? 30_000,
    },
    dispatch: {
      maxAttempts: options.dispatch?.maxAttempts ?? 3,
      backoff: options.dispatch?.backoff ?? { initialMs: 200, maxMs: 10_000 },
      deadLetter: options.dispatch?.deadLetter ?? true,
      retry: options.dispatch?.retry ?? { mode: 'in-place' },
      concurrency: options.dispatch?.concurrency ?? 1,
      handlerTimeoutMs: options.dispatch?.handlerTimeoutMs ?? 30_000,
      topicValidation: options.dispatch?.topicValidation ?? 'warn',
      startFrom: options.dispatch?.startFrom ?? 'earliest',
    },
    wiring: {
      failFast: options.wiring?.failFast ?? false,
      retry: options.wiring?.retry ?? { initialMs: 1_000, maxMs: 30_000 },
    },
    shutdown: {
      drainTimeoutMs: options.shutdown?.drainTimeoutMs ?? 10_000,
      disconnectTimeoutMs: options.shutdown?.disconnectTimeoutMs ?? 5_000,
    },
    tracing: { enabled: options.tracing?.enabled ?? true },
    logging: options.logging ?? {},
    database: options.database,
  };
}
