import { z } from 'zod';

/** Lifecycle statuses of a pattern, in lifecycle order. */
export const PATTERN_STATUSES = ['candidate', 'validated', 'deprecated'] as const;

export const patternStatusSchema = z.enum(PATTERN_STATUSES);

export type PatternStatus = z.infer<typeof patternStatusSchema>;

/** A pattern as learned from one session (an element of a `pattern-learned` batch). */
export const learnedPatternSchema = z.object({
  pattern_id: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex digits'),
  sequence: z.array(z.string().min(1)).min(1),
  occurrences: z.int().positive(),
  session_id: z.string().min(1),
});

export type LearnedPattern = z.infer<typeof learnedPatternSchema>;
