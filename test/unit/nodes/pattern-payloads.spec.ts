import { describe, expect, it } from '@jest/globals';
import { PermanentHandlerError } from '../../../src/intelligence/index.js';
import { patternTransitionCommandSchema } from '../../../src/nodes/pattern-lifecycle/pattern-lifecycle.schema.js';
import {
  patternLearnedSchema,
  patternLearningCommandSchema,
} from '../../../src/nodes/pattern-learning/pattern-learning.schema.js';
import { parsePayload } from '../../../src/nodes/shared/payload.validation.js';

const learning = (payload: unknown) =>
  parsePayload(patternLearningCommandSchema, payload, 'pattern-learning command');
const reasonOf = (parse: () => unknown): string => {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(PermanentHandlerError);
    return (error as Error).message;
  }
  throw new Error('expected the payload to be rejected');
};

describe('pattern payload validation', () => {
  it('accepts a hook session with extra fields, trimming tool names', () => {
    expect(
      learning({
        session_id: 's-1',
        hook: 'Stop',
        events: [
          { tool: ' Read ', timestamp: '2025-01-01T00:00:00Z', cwd: '/repo' },
          { tool: 'Edit', timestamp: 1735689600000 },
          { tool: 'Bash' },
        ],
      }),
    ).toEqual({
      session_id: 's-1',
      events: [
        { tool: 'Read', timestamp: '2025-01-01T00:00:00Z' },
        { tool: 'Edit', timestamp: 1735689600000 },
        { tool: 'Bash' },
      ],
    });
  });

  it('names the bad field of an invalid session', () => {
    expect(
      reasonOf(() => learning({ session_id: 's', events: [{ tool: 'Read' }, { tool: 42 }] })),
    ).toBe(
      'Invalid pattern-learning command: events[1].tool: Invalid input: expected string, received number',
    );
    expect(reasonOf(() => learning({ events: [] }))).toContain('session_id:');
    expect(reasonOf(() => learning({ session_id: 's', events: [{ tool: '  ' }] }))).toContain(
      'events[0].tool: must be a non-empty tool name',
    );
    expect(reasonOf(() => learning({ session_id: 's', events: 'Read,Edit' }))).toContain(
      'events: Invalid input: expected array',
    );
    expect(reasonOf(() => learning([1, 2]))).toContain('(payload): Invalid input');
  });

  it('names at most five issues and counts the rest', () => {
    const events = Array.from({ length: 8 }, () => ({ tool: 1 }));
    expect(reasonOf(() => learning({ session_id: 's', events }))).toMatch(
      /events\[4\]\.tool.*\(and 3 more\)$/,
    );
  });

  it('checks a learned batch and a transition command', () => {
    expect(
      reasonOf(() =>
        parsePayload(
          patternLearnedSchema,
          { session_id: 's', batch_index: 2, batch_count: 2, patterns: [] },
          'pattern-learned event',
        ),
      ),
    ).toBe('Invalid pattern-learned event: batch_index: must be below batch_count');
    expect(
      reasonOf(() =>
        parsePayload(
          patternTransitionCommandSchema,
          { pattern_id: 'p', to_status: 'archived' },
          'transition',
        ),
      ),
    ).toContain('to_status: Invalid option');
    expect(
      parsePayload(
        patternTransitionCommandSchema,
        { pattern_id: 'p', to_status: 'validated' },
        't',
      ),
    ).toEqual({ pattern_id: 'p', to_status: 'validated' });
  });
});
