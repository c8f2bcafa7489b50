import { z } from 'zod';
import { patternStatusSchema } from '../shared/pattern.schema.js';

/** Payload of the `pattern-stored` event: one pattern as stored now. */
export const patternStoredSchema = z.object({
  pattern_id: z.string().min(1),
  sequence: z.array(z.string()),
  occurrences: z.int().positive(),
  status: patternStatusSchema,
  created: z.boolean(),
});

export type PatternStoredPayload = z.infer<typeof patternStoredSchema>;
