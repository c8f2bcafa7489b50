/** Shortest recurring tool sequence that counts as a pattern. */
export const MIN_SEQUENCE_LENGTH = 2;

/** Longest tool sequence considered. */
export const MAX_SEQUENCE_LENGTH = 4;

/** A sequence must occur at least this often in one session. */
export const MIN_OCCURRENCES = 2;

/** Patterns kept per session, the most frequent first. */
export const MAX_PATTERNS_PER_SESSION = 50;

/** Patterns per `pattern-learned` event. */
export const PATTERNS_PER_BATCH = 25;
