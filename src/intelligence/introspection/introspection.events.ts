import { hostname } from 'node:os';
import type { IntrospectionNode } from './introspection-node.interface.js';

/** Which app instance speaks: every introspection and heartbeat payload carries it. */
export interface InstanceFacts {
  instance_id: string;
  host: string;
  pid: number;
}

export function instanceFacts(instanceId: string): InstanceFacts {
  return { instance_id: instanceId, host: hostname(), pid: process.pid };
}

/** Why an introspection event is published. */
export type IntrospectionReason = 'startup' | 'shutdown';

export interface IntrospectionEventPayload extends InstanceFacts {
  node_id: string;
  node_name: string;
  node_type: string;
  node_version: string;
  service: string;
  capabilities: string[];
  endpoints: string[];
  current_state: 'active' | 'stopped';
  reason: IntrospectionReason;
  correlation_id: string;
  timestamp: string;
}

export interface HeartbeatPayload extends InstanceFacts {
  node_id: string;
  node_type: string;
  node_version: string;
  service: string;
  uptime_seconds: number;
  active_operations: number;
  correlation_id: string;
  timestamp: string;
}

export function introspectionPayload(
  node: IntrospectionNode,
  service: string,
  instance: InstanceFacts,
  reason: IntrospectionReason,
  correlationId: string,
): IntrospectionEventPayload {
  return {
    node_id: node.nodeId,
    ...instance,
    node_name: node.name,
    node_type: node.kind,
    node_version: node.version,
    service,
    capabilities: [...(node.capabilities ?? [])],
    endpoints: [...node.endpoints],
    current_state: reason === 'startup' ? 'active' : 'stopped',
    reason,
    correlation_id: correlationId,
    timestamp: new Date().toISOString(),
  };
}
