import { describe, expect, it } from '@jest/globals';
import {
  decideTransition,
  legalTargets,
  promotionTarget,
} from '../../../src/nodes/pattern-lifecycle/pattern-lifecycle.compute.js';
import type { PatternStatus } from '../../../src/nodes/shared/pattern.schema.js';

describe('pattern lifecycle rules', () => {
  const cases: [PatternStatus, PatternStatus, 'apply' | 'noop' | 'illegal'][] = [
    ['candidate', 'candidate', 'noop'],
    ['candidate', 'validated', 'apply'],
    ['candidate', 'deprecated', 'apply'],
    ['validated', 'candidate', 'illegal'],
    ['validated', 'validated', 'noop'],
    ['validated', 'deprecated', 'apply'],
    ['deprecated', 'candidate', 'illegal'],
    ['deprecated', 'validated', 'illegal'],
    ['deprecated', 'deprecated', 'noop'],
  ];

  it.each(cases)('%s -> %s is %s', (from, to, kind) => {
    expect(decideTransition(from, to).kind).toBe(kind);
  });

  it('says why a transition is illegal', () => {
    expect(decideTransition('validated', 'candidate')).toEqual({
      kind: 'illegal',
      reason: 'validated -> candidate is not allowed (validated moves only to deprecated)',
    });
    expect(decideTransition('deprecated', 'validated')).toEqual({
      kind: 'illegal',
      reason: 'deprecated -> validated is not allowed (deprecated moves nowhere, it is final)',
    });
  });

  it('lists the legal targets', () => {
    expect(legalTargets('candidate')).toEqual(['validated', 'deprecated']);
    expect(legalTargets('validated')).toEqual(['deprecated']);
    expect(legalTargets('deprecated')).toEqual([]);
  });

  it('promotes only candidates that reached the threshold', () => {
    expect(promotionTarget({ status: 'candidate', occurrences: 3 }, 3)).toBe('validated');
    expect(promotionTarget({ status: 'candidate', occurrences: 7 }, 3)).toBe('validated');
    expect(promotionTarget({ status: 'candidate', occurrences: 2 }, 3)).toBeUndefined();
    expect(promotionTarget({ status: 'validated', occurrences: 9 }, 3)).toBeUndefined();
    expect(promotionTarget({ status: 'deprecated', occurrences: 9 }, 3)).toBeUndefined();
  });
});
