import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { DispatchEngine } from '../dispatch/dispatch.engine.js';
import { MessageDelivery } from '../delivery/message.delivery.js';
import { IntelligenceRuntime, type RuntimeState } from '../runtime/intelligence.runtime.js';
import { IntelligenceDatabase } from '../runtime/intelligence-database.js';
import { WiringState } from '../runtime/wiring.state.js';
import { registerClusterMetrics } from './cluster.metrics.js';
import { registerHandlerLatency } from './handler-latency.metric.js';

const STATES: RuntimeState[] = [
  'idle',
  'wiring',
  'wired',
  'degraded',
  'failed',
  'retrying',
  'draining',
  'stopped',
];

/**
 * Prometheus metrics of the module in a registry of its own (two apps never share one).
 * Labels are bounded: topics and handlers come from the frozen route table, nodes from
 * discovery, outcomes and states from fixed sets; payloads and errors are never labels.
 */
@Injectable()
export class IntelligenceMetrics {
  readonly registry = new Registry();

  constructor(
    engine: DispatchEngine,
    delivery: MessageDelivery,
    runtime: IntelligenceRuntime,
    wiring: WiringState,
    database: IntelligenceDatabase,
  ) {
    const registers = [this.registry];
    registerHandlerLatency(this.registry, () => engine.meters());
    registerClusterMetrics(this.registry, () => runtime.busHealth());
    new Counter({
      name: 'intelligence_messages_total',
      help: 'Messages dispatched, by topic and outcome',
      labelNames: ['topic', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const [topic, outcomes] of Object.entries(engine.metrics().perTopic)) {
          for (const [outcome, count] of Object.entries(outcomes))
            this.inc({ topic, outcome }, count);
        }
      },
    });
    new Counter({
      name: 'intelligence_handler_duplicates_skipped_total',
      help: 'Redeliveries skipped by idempotency key',
      labelNames: ['handler'],
      registers,
      collect() {
        this.reset();
        for (const [handler, stats] of Object.entries(engine.metrics().perHandler)) {
          this.inc({ handler }, stats.duplicatesSkipped);
        }
      },
    });
    new Counter({
      name: 'intelligence_delivery_total',
      help: 'In-place retries, retry-tier hand-overs and their publish failures, dead letters, dead-letter publish failures and drops',
      labelNames: ['event'],
      registers,
      collect() {
        this.reset();
        const stats = delivery.stats();
        this.inc({ event: 'retried' }, stats.retried);
        this.inc({ event: 'retry_tiered' }, stats.retryTiered);
        this.inc({ event: 'retry_tier_failed' }, stats.retryTierFailures);
        this.inc({ event: 'dead_lettered' }, stats.deadLettered);
        this.inc({ event: 'dead_letter_failed' }, stats.deadLetterFailures);
        this.inc({ event: 'dropped' }, stats.dropped);
      },
    });
    new Counter({
      name: 'intelligence_heartbeats_total',
      help: 'Heartbeats of the current wiring, by node and result',
      labelNames: ['node', 'result'],
      registers,
      collect() {
        this.reset();
        for (const proxy of wiring.introspectionProxies) {
          this.inc({ node: proxy.node.name, result: 'sent' }, proxy.beatsSent);
          this.inc({ node: proxy.node.name, result: 'failed' }, proxy.beatsFailed);
        }
      },
    });
    new Gauge({
      name: 'intelligence_wiring_state',
      help: '1 for the current wiring state',
      labelNames: ['state'],
      registers,
      collect() {
        const current = runtime.status().state;
        for (const state of STATES) this.set({ state }, state === current ? 1 : 0);
      },
    });
    new Gauge({
      name: 'intelligence_wiring_failed_attempts',
      help: 'Failed wiring attempts since the last success',
      registers,
      collect() {
        this.set(runtime.status().failedAttempts);
      },
    });
    new Gauge({
      name: 'intelligence_consumer_lag',
      help: 'Messages behind the end of each assigned partition, as last seen by the consumer',
      labelNames: ['group', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const subscription of runtime.busHealth().subscriptions) {
          for (const [topic, partitions] of Object.entries(subscription.lag)) {
            for (const [partition, lag] of Object.entries(partitions)) {
              this.set({ group: subscription.groupId, topic, partition }, lag);
            }
          }
        }
      },
    });
    new Counter({
      name: 'intelligence_database_queries_total',
      help: 'Statements run on the database, by result (every pool of this process)',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        if (!database.configured) return;
        const totals = database.totals();
        this.inc({ result: 'ok' }, totals.queries - totals.errors);
        this.inc({ result: 'error' }, totals.errors);
      },
    });
    new Gauge({
      name: 'intelligence_database_connections',
      help: 'Connections of the database pool: total, idle, and callers waiting for one',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        const health = database.health();
        if (!health) return;
        this.set({ kind: 'total' }, health.totalCount);
        this.set({ kind: 'idle' }, health.idleCount);
        this.set({ kind: 'waiting' }, health.waitingCount);
      },
    });
    new Gauge({
      name: 'intelligence_assigned_partitions',
      help: 'Partitions assigned to this instance, by consumer group',
      labelNames: ['group'],
      registers,
      collect() {
        this.reset();
        for (const subscription of runtime.busHealth().subscriptions) {
          this.inc(
            { group: subscription.groupId },
            Object.values(subscription.assigned).flat().length,
          );
        }
      },
    });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
