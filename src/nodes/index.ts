export * from './pattern-topics.constants.js';
export { PatternNodesModule, type PatternNodesOptions } from './pattern-nodes.module.js';
export * from './pattern-learning/pattern-learning.constants.js';
export {
  extractPatterns,
  type ExtractOptions,
} from './pattern-learning/pattern-extraction.compute.js';
export { toLearnedBatches } from './pattern-learning/pattern-batch.compute.js';
export {
  patternLearnedSchema,
  patternLearningCommandSchema,
  type PatternLearnedPayload,
  type PatternLearningCommand,
} from './pattern-learning/pattern-learning.schema.js';
export { PatternLearningNode } from './pattern-learning/pattern-learning.node.js';
export * from './pattern-storage/pattern.store.js';
export { InMemoryPatternStore } from './pattern-storage/in-memory-pattern.store.js';
export { PostgresPatternStore } from './pattern-storage/postgres-pattern.store.js';
export {
  PATTERN_SQL_CLIENT,
  type SqlClient,
  type SqlResult,
} from './pattern-storage/sql-client.interface.js';
export {
  patternStoredSchema,
  type PatternStoredPayload,
} from './pattern-storage/pattern-storage.schema.js';
export { PatternStorageNode } from './pattern-storage/pattern-storage.node.js';
export * from './pattern-lifecycle/pattern-lifecycle.constants.js';
export {
  decideTransition,
  legalTargets,
  promotionTarget,
  type TransitionDecision,
} from './pattern-lifecycle/pattern-lifecycle.compute.js';
export {
  patternTransitionCommandSchema,
  type PatternTransitionCommand,
  type PatternTransitionedPayload,
} from './pattern-lifecycle/pattern-lifecycle.schema.js';
export { PatternLifecycleNode } from './pattern-lifecycle/pattern-lifecycle.node.js';
export {
  learnedPatternSchema,
  PATTERN_STATUSES,
  patternStatusSchema,
  type LearnedPattern,
  type PatternStatus,
} from './shared/pattern.schema.js';
export { patternIdOf } from './shared/pattern-id.compute.js';
