/** Kinds of intelligence node; effect nodes send heartbeats. */
export type NodeKind = 'effect' | 'compute' | 'reducer' | 'orchestrator';

/** What `@IntelligenceNode` declares about a provider class. */
export interface IntelligenceNodeMetadata {
  name: string;
  kind: NodeKind;
  version: string;
  /** Free-form capability names announced in introspection. */
  capabilities?: string[];
}

/** A discovered node as introspection announces it. */
export interface IntrospectionNode extends IntelligenceNodeMetadata {
  /** Stable id: UUID v5 of the node name. */
  nodeId: string;
  /** Topics the node's handlers consume. */
  endpoints: string[];
}
