import { v5 as uuidV5 } from 'uuid';

/** Namespace of node ids (UUID v5 of "onex.intelligence.node" in the URL namespace). */
const NODE_NAMESPACE = uuidV5('onex.intelligence.node', uuidV5.URL);

/** The stable id of a node: UUID v5 of its name, the same in every process and release. */
export function nodeIdFor(name: string): string {
  return uuidV5(name, NODE_NAMESPACE);
}
