import { z } from 'zod';
import { learnedPatternSchema } from '../shared/pattern.schema.js';

/** One event of a session; hooks send more fields, which are accepted and ignored. */
export const sessionEventSchema = z.object({
  tool: z.string().trim().min(1, 'must be a non-empty tool name'),
  timestamp: z.union([z.string(), z.number()]).nullish(),
});

/** Payload of the `pattern-learning` command: a session's events, in order. */
export const patternLearningCommandSchema = z.object({
  session_id: z.string().trim().min(1, 'must be a non-empty session id'),
  events: z.array(sessionEventSchema),
});

export type PatternLearningCommand = z.infer<typeof patternLearningCommandSchema>;

/** Payload of the `pattern-learned` event: one batch of a session's patterns. */
export const patternLearnedSchema = z
  .object({
    session_id: z.string().min(1),
    batch_index: z.int().nonnegative(),
    batch_count: z.int().positive(),
    patterns: z.array(learnedPatternSchema),
  })
  .refine((batch) => batch.batch_index < batch.batch_count, {
    error: 'must be below batch_count',
    path: ['batch_index'],
  });

export type PatternLearnedPayload = z.infer<typeof patternLearnedSchema>;
