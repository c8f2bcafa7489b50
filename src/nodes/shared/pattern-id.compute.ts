import { createHash } from 'node:crypto';

/**
 * Stable id of a tool sequence: the first 16 hex digits of the SHA-256 of the sequence as a
 * JSON array (an unambiguous join: no separator can collide with a tool name).
 */
export function patternIdOf(sequence: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(sequence)).digest('hex').slice(0, 16);
}
