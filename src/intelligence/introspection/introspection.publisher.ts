import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EventBus } from '../bus/event-bus.js';
import { createEnvelope, toOutgoing } from '../wire/envelope.js';
import { INTELLIGENCE_CONFIG, type IntelligenceConfig } from '../intelligence.config.js';
import { INTROSPECTION_TOPIC } from '../intelligence.constants.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import { HeartbeatProxy } from './heartbeat.proxy.js';
import { IntrospectionGuard } from './introspection.guard.js';
import {
  instanceFacts,
  introspectionPayload,
  type InstanceFacts,
  type IntrospectionReason,
} from './introspection.events.js';
import type { IntrospectionNode } from './introspection-node.interface.js';

export interface StartupIntrospection {
  correlationId: string;
  /** Receives each proxy as soon as it exists, so cleanup can stop it whatever happens next. */
  register: (proxy: HeartbeatProxy) => void;
  activeOperations: (nodeName: string) => number;
}

/**
 * Publishes the introspection events of the app's nodes (startup and shutdown, one per node)
 * and starts one heartbeat proxy per effect node. Startup runs under the `IntrospectionGuard`.
 * Events carry this instance's id, host and pid and are keyed by the instance id.
 */
@Injectable()
export class IntrospectionPublisher {
  private readonly logger = new Logger('IntrospectionPublisher');
  private readonly instance: InstanceFacts;

  constructor(
    private readonly guard: IntrospectionGuard,
    @Inject(INTELLIGENCE_CONFIG) private readonly config: IntelligenceConfig,
    @Inject(LogSanitizer) private readonly sanitizer: LogSanitizer,
  ) {
    this.instance = instanceFacts(config.instanceId);
  }

  /**
   * Announces every node and starts the effect nodes' heartbeats. A no-op without a bus or
   * with introspection disabled; a second call before `guard.reset()` is refused.
   */
  async publishStartup(
    bus: EventBus | undefined,
    nodes: readonly IntrospectionNode[],
    startup: StartupIntrospection,
  ): Promise<HeartbeatProxy[]> {
    if (!bus || !this.config.introspection.enabled) return [];
    return this.guard.run(async () => {
      await this.publish(bus, nodes, 'startup', startup.correlationId);
      return nodes
        .filter((node) => node.kind === 'effect')
        .map((node) => {
          const proxy = new HeartbeatProxy(node, bus, {
            service: this.config.serviceName,
            instance: this.instance,
            intervalMs: this.config.introspection.heartbeatIntervalMs,
            activeOperations: startup.activeOperations,
            logger: this.logger,
            sanitizer: this.sanitizer,
          });
          startup.register(proxy);
          proxy.start();
          return proxy;
        });
    });
  }

  /** Announces that every node stops. A no-op without a bus or with introspection disabled. */
  async publishShutdown(
    bus: EventBus | undefined,
    nodes: readonly IntrospectionNode[],
    correlationId: string,
  ): Promise<void> {
    if (!bus || !this.config.introspection.enabled) return;
    await this.publish(bus, nodes, 'shutdown', correlationId);
  }

  private async publish(
    bus: EventBus,
    nodes: readonly IntrospectionNode[],
    reason: IntrospectionReason,
    correlationId: string,
  ): Promise<void> {
    if (nodes.length === 0) return;
    const service = this.config.serviceName;
    await bus.publishBatch(
      INTROSPECTION_TOPIC,
      nodes.map((node) =>
        toOutgoing(
          createEnvelope({
            topic: INTROSPECTION_TOPIC,
            payload: introspectionPayload(node, service, this.instance, reason, correlationId),
            correlationId,
            source: service,
          }),
          this.instance.instance_id,
        ),
      ),
    );
  }
}
