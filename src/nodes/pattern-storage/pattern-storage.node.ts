import { Inject, Injectable } from '@nestjs/common';
import {
  IntelligenceHandler,
  IntelligenceNode,
  PermanentHandlerError,
  type DispatchContext,
  type IntelligenceEvent,
} from '../../intelligence/index.js';
import { patternLearnedSchema } from '../pattern-learning/pattern-learning.schema.js';
import { PATTERN_LEARNED_TOPIC, PATTERN_STORED_TOPIC } from '../pattern-topics.constants.js';
import type { LearnedPattern } from '../shared/pattern.schema.js';
import { patternIdOf } from '../shared/pattern-id.compute.js';
import { parsePayload } from '../shared/payload.validation.js';
import { PatternIdConflictError, PatternStore, type UpsertResult } from './pattern.store.js';
import type { PatternStoredPayload } from './pattern-storage.schema.js';

/**
 * Stores learned patterns (one idempotent `upsertMany` of the batch into the `PatternStore`)
 * and publishes one `pattern-stored` event per pattern, keyed by pattern id.
 */
@IntelligenceNode({
  name: 'pattern-storage',
  kind: 'effect',
  version: '1.0.0',
  capabilities: ['pattern-storage'],
})
@Injectable()
export class PatternStorageNode {
  constructor(@Inject(PatternStore) private readonly store: PatternStore) {}

  @IntelligenceHandler(PATTERN_LEARNED_TOPIC, { idempotencyKey: (event) => event.envelopeId })
  async storePatterns(event: IntelligenceEvent, ctx: DispatchContext): Promise<void> {
    const batch = parsePayload(patternLearnedSchema, event.payload, 'pattern-learned event');
    batch.patterns.forEach(checkPatternId);
    for (const { created, record } of await this.upsertMany(batch.patterns)) {
      const stored: PatternStoredPayload = {
        pattern_id: record.pattern_id,
        sequence: [...record.sequence],
        occurrences: record.occurrences,
        status: record.status,
        created,
      };
      await ctx.publish(PATTERN_STORED_TOPIC, stored, { key: record.pattern_id });
    }
  }

  private async upsertMany(patterns: readonly LearnedPattern[]): Promise<UpsertResult[]> {
    try {
      return await this.store.upsertMany(patterns);
    } catch (error) {
      if (error instanceof PatternIdConflictError) {
        throw new PermanentHandlerError(error.message, { cause: error });
      }
      throw error;
    }
  }
}

/** Checked for the whole batch before anything is stored. */
function checkPatternId(pattern: LearnedPattern, index: number): void {
  const expected = patternIdOf(pattern.sequence);
  if (pattern.pattern_id !== expected) {
    throw new PermanentHandlerError(
      `Invalid pattern-learned event: patterns[${index}].pattern_id: ${pattern.pattern_id} ` +
        `does not match its sequence (expected ${expected})`,
    );
  }
}
