import { Injectable } from '@nestjs/common';
import type { Subscription } from '../bus/bus-message.interface.js';
import type { EventBus } from '../bus/event-bus.js';
import type { DispatchEngine } from '../dispatch/dispatch.engine.js';
import type { HeartbeatProxy } from '../introspection/heartbeat.proxy.js';
import type { IntrospectionNode } from '../introspection/introspection-node.interface.js';

/**
 * What one wiring holds: filled step by step by `IntelligenceRuntime.wire()`, emptied by
 * `IntelligenceCleanupService.run()`. `generation` changes at every cleanup, so work that
 * finishes late (a subscription completing during rollback) can tell it is stale.
 */
@Injectable()
export class WiringState {
  eventBus: EventBus | undefined;
  busConnected = false;
  /**
   * Whether the module owns the bus's connection (built from `{ kind }` options) or borrows
   * it (an `EventBus` instance from the options): a borrowed bus is never disconnected.
   */
  ownsBus = true;
  introspectionNodes: IntrospectionNode[] | undefined;
  introspectionProxies: HeartbeatProxy[] = [];
  dispatchEngine: DispatchEngine | undefined;
  subscriptions: Subscription[] = [];
  /** The database resource while a wiring holds it open (closed by the cleanup). */
  database: { close(): Promise<void> } | undefined;
  generation = 0;

  /** Whether anything is held that a cleanup would release. */
  get holdsAnything(): boolean {
    return (
      this.eventBus !== undefined ||
      this.introspectionNodes !== undefined ||
      this.introspectionProxies.length > 0 ||
      this.dispatchEngine !== undefined ||
      this.subscriptions.length > 0 ||
      this.database !== undefined
    );
  }
}
