import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { EventBus } from '../bus/event-bus.js';
import { createEnvelope, toOutgoing } from '../wire/envelope.js';
import { HEARTBEAT_TOPIC } from '../intelligence.constants.js';
import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type { HeartbeatPayload, InstanceFacts } from './introspection.events.js';
import type { IntrospectionNode } from './introspection-node.interface.js';

export interface HeartbeatSettings {
  service: string;
  instance: InstanceFacts;
  intervalMs: number;
  /** In-flight handler count of a node, for the beat's `active_operations`. */
  activeOperations: (nodeName: string) => number;
  logger: Logger;
  sanitizer: LogSanitizer;
}

/**
 * The introspection proxy of one effect node: a heartbeat at once, then every `intervalMs`
 * after the previous one finished (never overlapping), on an `unref()`'d timer. A failed beat
 * is logged and the loop goes on. `stopIntrospectionTasks()` is idempotent and resolves once
 * no timer is left and no beat is in flight.
 */
export class HeartbeatProxy {
  readonly startedAt = Date.now();
  beatsSent = 0;
  beatsFailed = 0;
  lastBeatAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly node: IntrospectionNode,
    private readonly bus: EventBus,
    private readonly settings: HeartbeatSettings,
  ) {}

  get running(): boolean {
    return this.stopping === undefined;
  }

  start(): void {
    if (this.running && !this.inFlight && !this.timer) this.beat();
  }

  stopIntrospectionTasks(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private beat(): void {
    this.inFlight = this.send().finally(() => {
      this.inFlight = undefined;
      if (!this.running) return;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.beat();
      }, this.settings.intervalMs);
      this.timer.unref();
    });
  }

  private async send(): Promise<void> {
    const correlationId = randomUUID();
    const payload: HeartbeatPayload = {
      node_id: this.node.nodeId,
      ...this.settings.instance,
      node_type: this.node.kind,
      node_version: this.node.version,
      service: this.settings.service,
      uptime_seconds: Math.floor((Date.now() - this.startedAt) / 1000),
      active_operations: this.settings.activeOperations(this.node.name),
      correlation_id: correlationId,
      timestamp: new Date().toISOString(),
    };
    try {
      const envelope = createEnvelope({
        topic: HEARTBEAT_TOPIC,
        payload,
        correlationId,
        source: this.settings.service,
      });
      await this.bus.publish(
        HEARTBEAT_TOPIC,
        toOutgoing(envelope, this.settings.instance.instance_id),
      );
      this.beatsSent += 1;
      this.lastBeatAt = Date.now();
    } catch (error) {
      this.beatsFailed += 1;
      this.settings.logger.warn({
        msg: 'Heartbeat failed; the next one is still scheduled',
        node: this.node.name,
        error: this.settings.sanitizer.describeError(error),
      });
    }
  }
}
