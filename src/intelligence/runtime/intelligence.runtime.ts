import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { BusHealth, MessageHandler } from '../bus/bus-message.interface.js';
import { settledWithin } from '../bus/bounded-wait.js';
import { BusError } from '../bus/bus.errors.js';
import { EventBus } from '../bus/event-bus.js';
import { backoffDelay } from '../bus/redelivery-backoff.js';
import { DispatchEngine } from '../dispatch/dispatch.engine.js';
import {
  HandlerDiscoveryError,
  IntelligenceExplorer,
  type DiscoveredHandlers,
} from '../dispatch/intelligence.explorer.js';
import { parseTopic } from '../wire/topic-name.js';
import { MessageDelivery } from '../delivery/message.delivery.js';
import { RetryPolicies } from '../delivery/retry-policies.js';
import { retryGroupId, retryTierTopic } from '../delivery/retry-tiers.js';
import { INTELLIGENCE_CONFIG, type IntelligenceConfig } from '../intelligence.config.js';
import { IntrospectionPublisher } from '../introspection/introspection.publisher.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import { IntelligenceCleanupService } from './intelligence-cleanup.service.js';
import { IntelligenceDatabase } from './intelligence-database.js';
import { IntelligenceWiringError, type WiringResult } from './wiring-result.interface.js';
import { WiringState } from './wiring.state.js';

/**
 * `degraded`: wired, but the bus reports a lost connection or a consumer that is not running
 * (it recovers by itself: back to `wired` once the client is connected and consuming again).
 */
export type RuntimeState =
  'idle' | 'wiring' | 'wired' | 'degraded' | 'failed' | 'retrying' | 'draining' | 'stopped';

export interface RuntimeStatus {
  state: RuntimeState;
  lastResult?: WiringResult;
  /** Failed attempts since the last successful wiring. */
  failedAttempts: number;
}

/**
 * Wires the dispatchers at `onModuleInit` (discover handlers and freeze the engine, connect
 * the bus, publish introspection and start heartbeats, subscribe) and takes everything down
 * at `onModuleDestroy`. A failed wiring is cleaned up and reported (`status()`, health); the
 * app keeps running and re-wires in the background, or init throws with `failFast`.
 */
@Injectable()
export class IntelligenceRuntime implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('IntelligenceRuntime');
  private state: RuntimeState = 'idle';
  private lastResult: WiringResult | undefined;
  private failedAttempts = 0;
  private wiring: Promise<WiringResult> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private shuttingDown = false;

  constructor(
    @Inject(INTELLIGENCE_CONFIG) private readonly config: IntelligenceConfig,
    @Inject(EventBus) private readonly bus: EventBus,
    private readonly explorer: IntelligenceExplorer,
    private readonly engine: DispatchEngine,
    private readonly delivery: MessageDelivery,
    private readonly publisher: IntrospectionPublisher,
    private readonly cleanup: IntelligenceCleanupService,
    private readonly wiringState: WiringState,
    @Inject(LogSanitizer) private readonly sanitizer: LogSanitizer,
    private readonly database: IntelligenceDatabase,
  ) {}

  async onModuleInit(): Promise<void> {
    const result = await this.wire();
    if (!result.ok && this.config.wiring.failFast) throw new IntelligenceWiringError(result);
  }

  async onModuleDestroy(): Promise<void> {
    this.shuttingDown = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.wiring;
    if (this.isWired()) {
      this.state = 'draining';
      await this.drainAndAnnounce();
    }
    await this.cleanup.run('shutdown');
    this.state = 'stopped';
  }

  /**
   * Wires the dispatchers. Concurrent calls share one attempt; when already wired it resolves
   * to the current result. Never rejects: a failure is cleaned up and returned.
   */
  wire(): Promise<WiringResult> {
    if (this.wiring) return this.wiring;
    if (this.isWired() && this.lastResult) return Promise.resolve(this.lastResult);
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.wiring = this.attempt().finally(() => {
      this.wiring = undefined;
    });
    return this.wiring;
  }

  status(): RuntimeStatus {
    return {
      state: this.liveState(),
      failedAttempts: this.failedAttempts,
      ...(this.lastResult === undefined ? {} : { lastResult: this.lastResult }),
    };
  }

  /** Live state of the event bus (connection, consumers, partitions). */
  busHealth(): BusHealth {
    return this.bus.health();
  }

  private liveState(): RuntimeState {
    if (this.state !== 'wired') return this.state;
    if (!this.isWired()) return 'stopped';
    const bus = this.bus.health();
    const consuming = bus.subscriptions.every((subscription) => subscription.state === 'running');
    return bus.connected && consuming ? 'wired' : 'degraded';
  }

  /** Wired, and not cleaned up since (a direct `IntelligenceCleanupService.run()` also counts). */
  private isWired(): boolean {
    return this.state === 'wired' && this.wiringState.busConnected;
  }

  private async attempt(): Promise<WiringResult> {
    const correlationId = randomUUID();
    const started = performance.now();
    const finish = (fields: Partial<WiringResult> & Pick<WiringResult, 'ok' | 'status'>) => ({
      correlationId,
      durationMs: Math.round(performance.now() - started),
      at: new Date().toISOString(),
      ...fields,
    });
    if (this.shuttingDown) {
      return finish({ ok: false, status: 'failed', error: 'The application is shutting down' });
    }
    this.state = 'wiring';
    try {
      const { topics, handlers } = await this.wireSteps(correlationId);
      this.state = 'wired';
      this.failedAttempts = 0;
      this.lastResult = finish({
        ok: true,
        status: 'wired',
        handlers,
        topics,
      });
      this.logger.log({ msg: 'Intelligence wired', correlationId, topics: topics.length });
    } catch (error) {
      await this.cleanup.run('wiring-failed');
      this.failedAttempts += 1;
      const failure = error instanceof BusError ? error.failure : undefined;
      this.lastResult = finish({
        ok: false,
        status: 'failed',
        error: this.sanitizer.describeError(error),
        ...(failure ? { failure } : {}),
      });
      this.state = 'failed';
      this.logger.error({
        msg: 'Intelligence wiring failed; cleaned up',
        correlationId,
        error: this.lastResult.error,
        ...(failure ? { failure: failure.kind, cause: failure.cause, hint: failure.hint } : {}),
        attempt: this.failedAttempts,
      });
      this.scheduleRetry();
    }
    return this.lastResult;
  }

  /**
   * The wiring steps (discover, open the database when there is one, connect the bus, announce,
   * subscribe); each reference is recorded as soon as it exists.
   */
  private async wireSteps(correlationId: string): Promise<{ topics: string[]; handlers: number }> {
    const state = this.wiringState;
    const generation = state.generation;
    const { nodes, handlers } = this.mapTopics(this.explorer.explore());
    this.checkTopicNames(handlers.map((handler) => handler.topic));

    const database = this.database;
    if (database.configured) {
      state.database = database;
      await database.open();
    }
    const idempotency = database.idempotencyStore;
    this.engine.load(handlers, this.bus, {
      ...(idempotency ? { idempotency } : {}),
      ...(database.configured ? { transactions: (fn) => database.withTransaction(fn) } : {}),
    });
    state.dispatchEngine = this.engine;

    state.eventBus = this.bus;
    state.ownsBus = !(this.config.bus instanceof EventBus);
    if (state.ownsBus || !this.bus.health().connected) await this.bus.connect();
    state.busConnected = true;

    state.introspectionNodes = nodes;
    await this.publisher.publishStartup(this.bus, nodes, {
      correlationId,
      register: (proxy) => state.introspectionProxies.push(proxy),
      activeOperations: (node) => this.engine.activeOperations(node),
    });

    const policies = new RetryPolicies(this.config.dispatch.retry, handlers);
    this.delivery.load(policies);
    const topics = this.engine.topics();
    if (topics.length > 0) {
      await this.subscribe(generation, topics, this.config.groupId, (message) =>
        this.delivery.deliver(message),
      );
      // The retry consumers, when some handler retries through tier topics: one subscription
      // to every tier topic in use, in the group's retry group (from the start: nothing due
      // is skipped).
      const tiers = policies.delays().map((delay) => retryTierTopic(this.config.groupId, delay));
      if (tiers.length > 0) {
        await this.subscribe(generation, tiers, retryGroupId(this.config.groupId), (message) =>
          this.delivery.deliverRetry(message),
        );
      }
    }
    return { topics, handlers: handlers.length };
  }

  /** Subscribes `handler` to `topics` as a member of `groupId`, recorded in the wiring state. */
  private async subscribe(
    generation: number,
    topics: string[],
    groupId: string,
    handler: MessageHandler,
  ): Promise<void> {
    const state = this.wiringState;
    const retryTiers = groupId !== this.config.groupId;
    const subscription = await this.bus.subscribe(topics, groupId, handler, {
      redelivery: this.config.dispatch.backoff,
      concurrency: this.config.dispatch.concurrency,
      fromBeginning: retryTiers || this.config.dispatch.startFrom === 'earliest',
      drainTimeoutMs: this.config.shutdown.drainTimeoutMs,
    });
    if (state.generation !== generation) {
      await subscription.close();
      throw new Error('Wiring was cleaned up while subscribing');
    }
    state.subscriptions.push(subscription);
  }

  /** Applies the `topicMap` option to every handler's topic (and so to the nodes' endpoints). */
  private mapTopics(found: DiscoveredHandlers): DiscoveredHandlers {
    const map = this.config.topicMap;
    return {
      handlers: found.handlers.map((handler) => ({ ...handler, topic: map(handler.topic) })),
      nodes: found.nodes.map((node) => ({ ...node, endpoints: node.endpoints.map(map) })),
    };
  }

  /** Applies `dispatch.topicValidation` to the platform's `onex.<kind>.<producer>.<name>.v<N>` form. */
  private checkTopicNames(topics: string[]): void {
    const mode = this.config.dispatch.topicValidation;
    const bad = [...new Set(topics)].filter((topic) => parseTopic(topic) === undefined);
    if (mode === 'off' || bad.length === 0) return;
    const problem = `Topics not of the form onex.<evt|cmd|intent>.<producer>.<name>.v<N>: ${bad.join(', ')}`;
    if (mode === 'reject') throw new HandlerDiscoveryError(problem);
    this.logger.warn({ msg: problem });
  }

  private scheduleRetry(): void {
    const retry = this.config.wiring.retry;
    if (!retry || this.shuttingDown || this.config.wiring.failFast) return;
    this.state = 'retrying';
    // A permanent failure waits for a configuration change: retry at the slowest pace at once.
    const delay =
      this.lastResult?.failure?.kind === 'permanent'
        ? retry.maxMs
        : backoffDelay(this.failedAttempts, retry);
    // Not unref'd: a headless worker whose only pending work is this retry must stay up.
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.wire();
    }, delay);
  }

  private async drainAndAnnounce(): Promise<void> {
    const state = this.wiringState;
    const drain = await this.delivery.stop(
      state.subscriptions,
      this.config.shutdown.drainTimeoutMs,
    );
    if (drain.pending.length > 0) {
      this.logger.warn({
        msg: 'Drain deadline reached; unfinished messages stay uncommitted and will be redelivered',
        pending: drain.pending,
      });
    }
    const announcing = this.publisher.publishShutdown(
      state.eventBus,
      state.introspectionNodes ?? [],
      randomUUID(),
    );
    const ms = this.config.shutdown.disconnectTimeoutMs;
    try {
      // With the broker gone a publish retries for long: the shutdown does not wait for it.
      if (!(await settledWithin(announcing, ms))) {
        throw new Error(`not accepted within ${String(ms)} ms`);
      }
      await announcing;
    } catch (error) {
      this.logger.warn({
        msg: 'Shutdown introspection could not be published',
        error: this.sanitizer.describeError(error),
      });
    }
  }
}
