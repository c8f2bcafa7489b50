import type { IntrospectionNode } from './introspection-node.interface.js';

/** Why an introspection event is published. */
export type IntrospectionReason = 'startup' | 'shutdown';

export interface IntrospectionEventPayload {
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

export interface HeartbeatPayload {
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
  reason: IntrospectionReason,
  correlationId: string,
): IntrospectionEventPayload {
  return {
    node_id: node.nodeId,
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
