import { z } from 'zod';
import { patternStatusSchema, type PatternStatus } from '../shared/pattern.schema.js';

/** Payload of the `pattern-lifecycle-transition` command. */
export const patternTransitionCommandSchema = z.object({
  pattern_id: z.string().trim().min(1, 'must be a non-empty pattern id'),
  to_status: patternStatusSchema,
  reason: z.string().max(1_000).nullish(),
});

export type PatternTransitionCommand = z.infer<typeof patternTransitionCommandSchema>;

/** Payload of the `pattern-lifecycle-transitioned` event. */
export interface PatternTransitionedPayload {
  pattern_id: string;
  from_status: PatternStatus;
  to_status: PatternStatus;
  reason: string | null;
}
