import { Inject, Injectable, Logger } from '@nestjs/common';
import { settledWithin } from '../bus/bounded-wait.js';
import { INTELLIGENCE_CONFIG, type IntelligenceConfig } from '../intelligence.config.js';
import { IntrospectionGuard } from '../introspection/introspection.guard.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import { WiringState } from './wiring.state.js';

export type CleanupReason = 'wiring-failed' | 'shutdown';

/** The steps of every cleanup, in this order. */
export type CleanupStep =
  | 'stop-heartbeats'
  | 'reset-guard'
  | 'clear-event-bus'
  | 'clear-introspection-nodes'
  | 'clear-introspection-proxies'
  | 'clear-dispatch-engine'
  | 'close-database';

export interface CleanupReport {
  reason: CleanupReason;
  steps: CleanupStep[];
  /** Sanitized errors met on the way; none of them stopped the cleanup. */
  errors: string[];
  durationMs: number;
}

/**
 * The one cleanup path, shared by a failed wiring and by shutdown: stop every heartbeat
 * (awaited; a failing proxy does not stop the others), reset the guard, then release the
 * event bus (closing the module's subscriptions; disconnecting it only when the module owns
 * it, never a borrowed bus), the nodes, the proxies and the dispatch engine, and last the
 * database pool (when there is one), in that order. Idempotent, safe on a half-initialized state, and concurrent
 * callers share one in-flight run; a later run after a new wiring cleans that one up.
 */
@Injectable()
export class IntelligenceCleanupService {
  private readonly logger = new Logger('IntelligenceCleanup');
  private inFlight: Promise<CleanupReport> | undefined;

  constructor(
    private readonly state: WiringState,
    private readonly guard: IntrospectionGuard,
    @Inject(LogSanitizer) private readonly sanitizer: LogSanitizer,
    @Inject(INTELLIGENCE_CONFIG) private readonly config: IntelligenceConfig,
  ) {}

  run(reason: CleanupReason): Promise<CleanupReport> {
    this.inFlight ??= this.perform(reason).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async perform(reason: CleanupReason): Promise<CleanupReport> {
    const started = performance.now();
    const report: CleanupReport = { reason, steps: [], errors: [], durationMs: 0 };
    const state = this.state;
    state.generation += 1;

    for (const proxy of state.introspectionProxies) {
      await this.attempt(report, `stopping the heartbeat of ${proxy.node.name}`, () =>
        proxy.stopIntrospectionTasks(),
      );
    }
    report.steps.push('stop-heartbeats');

    this.guard.reset();
    report.steps.push('reset-guard');

    const subscriptions = state.subscriptions;
    state.subscriptions = [];
    for (const subscription of subscriptions) {
      await this.attempt(report, `closing the subscription of ${subscription.groupId}`, () =>
        this.bounded(subscription.close()),
      );
    }
    const bus = state.eventBus;
    if (bus && state.busConnected && state.ownsBus) {
      await this.attempt(report, 'disconnecting the event bus', () =>
        this.bounded(bus.disconnect()),
      );
    }
    state.eventBus = undefined;
    state.busConnected = false;
    report.steps.push('clear-event-bus');

    state.introspectionNodes = undefined;
    report.steps.push('clear-introspection-nodes');

    state.introspectionProxies = [];
    report.steps.push('clear-introspection-proxies');

    state.dispatchEngine?.reset();
    state.dispatchEngine = undefined;
    report.steps.push('clear-dispatch-engine');

    const database = state.database;
    state.database = undefined;
    if (database) {
      await this.attempt(report, 'closing the database pool', () => this.bounded(database.close()));
    }
    report.steps.push('close-database');

    report.durationMs = performance.now() - started;
    this.logger.log({ msg: 'Cleanup finished', reason, errors: report.errors.length });
    return report;
  }

  /** A closing step, given up after `shutdown.disconnectTimeoutMs` (the broker may be gone). */
  private async bounded(step: Promise<void>): Promise<void> {
    const ms = this.config.shutdown.disconnectTimeoutMs;
    if (!(await settledWithin(step, ms))) {
      throw new Error(`did not finish within ${String(ms)} ms; left behind`);
    }
    await step;
  }

  private async attempt(report: CleanupReport, what: string, step: () => Promise<void>) {
    try {
      await step();
    } catch (error) {
      const message = `${what} failed: ${this.sanitizer.describeError(error)}`;
      report.errors.push(message);
      this.logger.debug({ msg: 'Cleanup step failed; continuing', error: message });
    }
  }
}
