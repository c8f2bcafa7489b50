import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { toLearnedBatches } from '../../../src/nodes/pattern-learning/pattern-batch.compute.js';
import { extractPatterns } from '../../../src/nodes/pattern-learning/pattern-extraction.compute.js';
import { patternIdOf } from '../../../src/nodes/shared/pattern-id.compute.js';
import { sessionWith120Patterns } from './pattern-sessions.js';

const events = (...tools: string[]) => tools.map((tool) => ({ tool }));
const extract = (...tools: string[]) =>
  extractPatterns(events(...tools), { sessionId: 's-1' }).map((pattern) => [
    pattern.sequence.join(' '),
    pattern.occurrences,
  ]);

describe('extractPatterns', () => {
  it('finds contiguous sequences of 2..4 tools occurring at least twice', () => {
    expect(extract('Read', 'Edit', 'Grep', 'Read', 'Edit', 'Bash')).toEqual([['Read Edit', 2]]);
    expect(extract('Read', 'Edit', 'Bash', 'Grep')).toEqual([]);
    expect(extract()).toEqual([]);
    expect(extract('Read')).toEqual([]);
  });

  it('counts overlapping occurrences', () => {
    expect(extract('Read', 'Read', 'Read')).toEqual([['Read Read', 2]]);
  });

  it('never goes beyond 4 tools', () => {
    const five = ['A', 'B', 'C', 'D', 'E'];
    expect(extract(...five, 'x', ...five)).toEqual([
      ['A B C D', 2],
      ['B C D E', 2],
    ]);
  });

  it('drops a sequence contained in a longer one with the same count, keeps it when more frequent', () => {
    // R E B x3: "R E" and "E B" (3) lie in "R E B" (3); "B R" (2) in "E B R" (2) in "E B R E" (2)
    expect(extract('R', 'E', 'B', 'R', 'E', 'B', 'R', 'E', 'B')).toEqual([
      ['R E B', 3],
      ['B R E B', 2],
      ['E B R E', 2],
      ['R E B R', 2],
    ]);
    // "A B" (3) is in "A B C" (2) but more frequent: kept
    expect(extract('A', 'B', 'C', 'A', 'B', 'C', 'A', 'B')).toEqual([
      ['A B', 3],
      ['A B C A', 2],
      ['B C A B', 2],
    ]);
  });

  it('orders by occurrences, then length, then tool names', () => {
    const tools = ['P', 'Q', 'x1', 'P', 'Q', 'x2', 'K', 'L', 'M', 'x3', 'K', 'L', 'M', 'x4'];
    tools.push('C', 'D', 'x5', 'C', 'D', 'x6', 'A', 'B', 'x7', 'A', 'B', 'x8', 'A', 'B');
    expect(extract(...tools)).toEqual([
      ['A B', 3],
      ['K L M', 2],
      ['C D', 2],
      ['P Q', 2],
    ]);
  });

  it('keeps at most 50 patterns, the first in order', () => {
    const patterns = extractPatterns(events(...sessionWith120Patterns()), { sessionId: 's-big' });
    expect(patterns).toHaveLength(50);
    expect(patterns.every((pattern) => pattern.occurrences === 2)).toBe(true);
    const names = patterns.map((pattern) => pattern.sequence.join(' '));
    expect(names.slice(0, 3)).toEqual(['a0 b0', 'a1 b1', 'a10 b10']);
    expect(names).toEqual([...names].sort());
    const all = extractPatterns(events(...sessionWith120Patterns()), {
      sessionId: 's-big',
      maxPatterns: 500,
    });
    expect(all).toHaveLength(120);
  });

  it('gives each pattern a stable id from its sequence, and the session id', () => {
    const [pattern] = extractPatterns(events('Read', 'Edit', 'Read', 'Edit'), {
      sessionId: 'session-42',
    });
    const expected = createHash('sha256')
      .update(JSON.stringify(['Read', 'Edit']))
      .digest('hex')
      .slice(0, 16);
    expect(pattern).toEqual({
      pattern_id: expected,
      sequence: ['Read', 'Edit'],
      occurrences: 2,
      session_id: 'session-42',
    });
    const again = extractPatterns(events('Grep', 'Read', 'Edit', 'Read', 'Edit'), {
      sessionId: 'other',
    });
    expect(again.map((found) => found.pattern_id)).toContain(expected);
  });

  it('honours its options and rejects impossible ones', () => {
    const tools = events('A', 'B', 'A', 'B', 'A', 'B');
    expect(extractPatterns(tools, { sessionId: 's', minOccurrences: 3 })).toEqual([
      expect.objectContaining({ sequence: ['A', 'B'], occurrences: 3 }),
    ]);
    expect(extractPatterns(tools, { sessionId: 's', maxPatterns: 0 })).toEqual([]);
    expect(() => extractPatterns(tools, { sessionId: 's', minLength: 0 })).toThrow(RangeError);
    expect(() => extractPatterns(tools, { sessionId: 's', minLength: 3, maxLength: 2 })).toThrow(
      RangeError,
    );
    expect(() => extractPatterns(tools, { sessionId: 's', minOccurrences: 0 })).toThrow(RangeError);
    expect(() => extractPatterns(tools, { sessionId: 's', maxPatterns: 1.5 })).toThrow(RangeError);
  });
});

describe('patternIdOf', () => {
  it('is 16 hex digits, stable, and unambiguous about tool boundaries', () => {
    const id = patternIdOf(['Read', 'Edit']);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(patternIdOf(['Read', 'Edit'])).toBe(id);
    expect(patternIdOf(['Edit', 'Read'])).not.toBe(id);
    expect(patternIdOf(['a,b', 'c'])).not.toBe(patternIdOf(['a', 'b,c']));
  });
});

describe('toLearnedBatches', () => {
  const patterns = (count: number) =>
    extractPatterns(events(...sessionWith120Patterns()), {
      sessionId: 's',
      maxPatterns: count,
    });

  it('splits into batches of at most 25, numbered', () => {
    const batches = toLearnedBatches('s', patterns(50));
    expect(
      batches.map((batch) => [batch.batch_index, batch.batch_count, batch.patterns.length]),
    ).toEqual([
      [0, 2, 25],
      [1, 2, 25],
    ]);
    expect(batches.flatMap((batch) => batch.patterns)).toEqual(patterns(50));
    expect(toLearnedBatches('s', patterns(26)).map((batch) => batch.patterns.length)).toEqual([
      25, 1,
    ]);
    expect(toLearnedBatches('s', patterns(3))).toEqual([
      { session_id: 's', batch_index: 0, batch_count: 1, patterns: patterns(3) },
    ]);
  });

  it('makes no batch of nothing and refuses a batch size below 1', () => {
    expect(toLearnedBatches('s', [])).toEqual([]);
    expect(() => toLearnedBatches('s', patterns(3), 0)).toThrow(RangeError);
  });
});
