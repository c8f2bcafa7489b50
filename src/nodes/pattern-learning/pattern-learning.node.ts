import { Injectable } from '@nestjs/common';
import {
  IntelligenceHandler,
  IntelligenceNode,
  type DispatchContext,
  type IntelligenceEvent,
} from '../../intelligence/index.js';
import { PATTERN_LEARNED_TOPIC, PATTERN_LEARNING_TOPIC } from '../pattern-topics.constants.js';
import { parsePayload } from '../shared/payload.validation.js';
import { toLearnedBatches } from './pattern-batch.compute.js';
import { extractPatterns } from './pattern-extraction.compute.js';
import { patternLearningCommandSchema } from './pattern-learning.schema.js';

/**
 * Learns the recurring tool-call sequences of a session and publishes them as
 * `pattern-learned` batches, keyed by session so a session's batches stay in order.
 */
@IntelligenceNode({
  name: 'pattern-learning',
  kind: 'compute',
  version: '1.0.0',
  capabilities: ['pattern-extraction'],
})
@Injectable()
export class PatternLearningNode {
  @IntelligenceHandler(PATTERN_LEARNING_TOPIC, { idempotencyKey: (event) => event.envelopeId })
  async learn(event: IntelligenceEvent, ctx: DispatchContext): Promise<void> {
    const command = parsePayload(
      patternLearningCommandSchema,
      event.payload,
      'pattern-learning command',
    );
    const patterns = extractPatterns(command.events, { sessionId: command.session_id });
    for (const batch of toLearnedBatches(command.session_id, patterns)) {
      await ctx.publish(PATTERN_LEARNED_TOPIC, batch, { key: command.session_id });
    }
  }
}
