/** Occurrences in one session at which a `candidate` pattern is validated automatically. */
export const DEFAULT_PROMOTION_THRESHOLD = 3;

/** Injection token of the promotion threshold (a positive integer). */
export const PATTERN_PROMOTION_THRESHOLD = Symbol('PATTERN_PROMOTION_THRESHOLD');
