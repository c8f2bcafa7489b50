import type { LearnedPattern } from '../shared/pattern.schema.js';
import { PATTERNS_PER_BATCH } from './pattern-learning.constants.js';
import type { PatternLearnedPayload } from './pattern-learning.schema.js';

/**
 * Splits a session's patterns into `pattern-learned` payloads of at most `batchSize`
 * patterns each, numbered `batch_index` 0..`batch_count`-1. No patterns, no batches.
 */
export function toLearnedBatches(
  sessionId: string,
  patterns: readonly LearnedPattern[],
  batchSize = PATTERNS_PER_BATCH,
): PatternLearnedPayload[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`toLearnedBatches: batchSize must be >= 1, got ${batchSize}`);
  }
  const batchCount = Math.ceil(patterns.length / batchSize);
  return Array.from({ length: batchCount }, (_, batchIndex) => ({
    session_id: sessionId,
    batch_index: batchIndex,
    batch_count: batchCount,
    patterns: patterns.slice(batchIndex * batchSize, (batchIndex + 1) * batchSize),
  }));
}
