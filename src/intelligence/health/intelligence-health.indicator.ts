import { Inject, Injectable } from '@nestjs/common';
import type { BusFailure } from '../bus/bus-failure.js';
import type { CoordinatorHealth, RecoveredError } from '../bus/bus-message.interface.js';
import { HealthIndicatorService } from '@nestjs/terminus';
import { INTELLIGENCE_CONFIG, type IntelligenceConfig } from '../intelligence.config.js';
import type { DatabaseHealth } from '../database/database-pool.js';
import { IntelligenceDatabase } from '../runtime/intelligence-database.js';
import { IntelligenceRuntime } from '../runtime/intelligence.runtime.js';
import { WiringState } from '../runtime/wiring.state.js';

/** What the health endpoints show: live state only, never a credential or a payload. */
export interface IntelligenceHealthDetails {
  [key: string]: unknown;
  state: string;
  lastError?: string;
  /** Why wiring failed, when the bus could tell: permanent ones need a configuration change. */
  failure?: BusFailure & { needsConfigChange: boolean };
  failedAttempts: number;
  bus: {
    kind: string;
    connected: boolean;
    brokers: string[];
    lastError?: string;
    recoveredError?: RecoveredError;
  };
  consumers: {
    groupId: string;
    state: string;
    assignedPartitions: number;
    lastError?: string;
    recoveredError?: RecoveredError;
    coordinator?: CoordinatorHealth;
  }[];
  /** Seconds since each effect node's last heartbeat (null before the first). */
  heartbeats: Record<string, number | null>;
  /** The PostgreSQL pool (with the `database` option): size, idle, waiting, last error. */
  database?: DatabaseHealth;
}

/**
 * Health of the module computed from live state (no new broker connection): wiring state
 * and last sanitized error, bus connection, consumers running or crashed, partitions
 * assigned, heartbeat ages, the database pool. Readiness goes down as soon as wiring fails or cleanup starts;
 * liveness only on a state that will not recover by itself.
 */
@Injectable()
export class IntelligenceHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly runtime: IntelligenceRuntime,
    private readonly wiring: WiringState,
    @Inject(INTELLIGENCE_CONFIG) private readonly config: IntelligenceConfig,
    private readonly database: IntelligenceDatabase,
  ) {}

  /** Ready to handle events: wired, bus connected, every consumer running, heartbeats fresh. */
  isReady(key = 'intelligence') {
    const details = this.details();
    const session = this.indicator.check(key);
    const staleAfter = (2 * this.config.introspection.heartbeatIntervalMs) / 1000;
    const ready =
      details.state === 'wired' &&
      details.bus.connected &&
      details.consumers.every((consumer) => consumer.state === 'running') &&
      Object.values(details.heartbeats).every((age) => age !== null && age <= staleAfter) &&
      details.database?.status !== 'down';
    return ready ? session.up(details) : session.down(details);
  }

  /** Alive unless wiring failed with no retry coming (a restart is needed). */
  isLive(key = 'intelligence') {
    const details = this.details();
    const session = this.indicator.check(key);
    const stuck = details.state === 'failed' && this.config.wiring.retry === false;
    return stuck ? session.down(details) : session.up(details);
  }

  details(): IntelligenceHealthDetails {
    const status = this.runtime.status();
    const bus = this.runtime.busHealth();
    const now = Date.now();
    const database = this.database.health();
    const lastError = status.lastResult?.ok === false ? status.lastResult.error : undefined;
    return {
      state: status.state,
      ...(lastError === undefined ? {} : { lastError }),
      ...(status.lastResult?.ok === false && status.lastResult.failure
        ? {
            failure: {
              ...status.lastResult.failure,
              needsConfigChange: status.lastResult.failure.kind === 'permanent',
            },
          }
        : {}),
      failedAttempts: status.failedAttempts,
      bus: {
        kind: bus.kind,
        connected: bus.connected,
        brokers: bus.brokers,
        ...(bus.lastError === undefined ? {} : { lastError: bus.lastError }),
        ...(bus.recoveredError ? { recoveredError: bus.recoveredError } : {}),
      },
      consumers: bus.subscriptions.map((subscription) => ({
        groupId: subscription.groupId,
        state: subscription.state,
        assignedPartitions: Object.values(subscription.assigned).flat().length,
        ...(subscription.lastError === undefined ? {} : { lastError: subscription.lastError }),
        ...(subscription.recoveredError ? { recoveredError: subscription.recoveredError } : {}),
        ...(subscription.coordinator ? { coordinator: subscription.coordinator } : {}),
      })),
      heartbeats: Object.fromEntries(
        this.wiring.introspectionProxies.map((proxy) => [
          proxy.node.name,
          proxy.lastBeatAt === undefined ? null : Math.round((now - proxy.lastBeatAt) / 100) / 10,
        ]),
      ),
      ...(database ? { database } : {}),
    };
  }
}
