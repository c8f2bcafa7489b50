import type { PatternStatus } from '../shared/pattern.schema.js';

/** The statuses each status may move to: candidate -> validated -> deprecated, or straight to deprecated. */
const NEXT: Readonly<Record<PatternStatus, readonly PatternStatus[]>> = {
  candidate: ['validated', 'deprecated'],
  validated: ['deprecated'],
  deprecated: [],
};

/** What a transition request amounts to, from the current status. */
export type TransitionDecision =
  | { kind: 'apply' }
  /** Already in the requested status: an idempotent no-op. */
  | { kind: 'noop' }
  | { kind: 'illegal'; reason: string };

/** Statuses `from` may move to. */
export function legalTargets(from: PatternStatus): readonly PatternStatus[] {
  return NEXT[from];
}

/** Decides a request to move a pattern from `from` to `to`. */
export function decideTransition(from: PatternStatus, to: PatternStatus): TransitionDecision {
  if (from === to) return { kind: 'noop' };
  const allowed = NEXT[from];
  if (allowed.includes(to)) return { kind: 'apply' };
  const options = allowed.length > 0 ? `only to ${allowed.join(' or ')}` : `nowhere, it is final`;
  return {
    kind: 'illegal',
    reason: `${from} -> ${to} is not allowed (${from} moves ${options})`,
  };
}

/** The status a stored pattern is promoted to automatically, if any. */
export function promotionTarget(
  pattern: { readonly status: PatternStatus; readonly occurrences: number },
  threshold: number,
): PatternStatus | undefined {
  return pattern.status === 'candidate' && pattern.occurrences >= threshold
    ? 'validated'
    : undefined;
}
