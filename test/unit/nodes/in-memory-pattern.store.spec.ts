import { describe, expect, it } from '@jest/globals';
import { InMemoryPatternStore } from '../../../src/nodes/pattern-storage/in-memory-pattern.store.js';
import {
  PatternIdConflictError,
  type StatusChange,
} from '../../../src/nodes/pattern-storage/pattern.store.js';
import { patternIdOf } from '../../../src/nodes/shared/pattern-id.compute.js';

const sequence = ['Read', 'Edit'];
const learned = (occurrences: number, sessionId = 's-1') => ({
  pattern_id: patternIdOf(sequence),
  sequence,
  occurrences,
  session_id: sessionId,
});
const change = (from: StatusChange['from_status'], to: StatusChange['to_status']) => ({
  from_status: from,
  to_status: to,
  reason: null,
  cause: 'topic/0@1#t',
  correlation_id: 'c-1',
});

describe('InMemoryPatternStore', () => {
  it('creates a pattern as a candidate, then merges: occurrences by max, sessions as a set', async () => {
    const store = new InMemoryPatternStore();
    const first = await store.upsert(learned(3));
    expect(first).toEqual({
      created: true,
      record: {
        pattern_id: patternIdOf(sequence),
        sequence,
        occurrences: 3,
        status: 'candidate',
        first_seen_session: 's-1',
        sessions: ['s-1'],
        transitions: [],
      },
    });
    expect(await store.upsert(learned(3))).toEqual({ created: false, record: first.record });
    await store.upsert(learned(2, 's-2'));
    await store.upsert(learned(5, 's-3'));
    await store.upsert(learned(1, 's-2'));
    expect(await store.get(patternIdOf(sequence))).toMatchObject({
      occurrences: 5,
      first_seen_session: 's-1',
      sessions: ['s-1', 's-2', 's-3'],
    });
    expect(await store.list()).toHaveLength(1);
    expect(await store.get('missing')).toBeUndefined();
  });

  it('refuses a second sequence under the same id', async () => {
    const store = new InMemoryPatternStore();
    await store.upsert(learned(2));
    await expect(store.upsert({ ...learned(2), sequence: ['Grep', 'Edit'] })).rejects.toThrow(
      PatternIdConflictError,
    );
  });

  it('changes status only from the expected one (compare-and-set), keeping the status on upsert', async () => {
    const store = new InMemoryPatternStore();
    const id = patternIdOf(sequence);
    await store.upsert(learned(2));
    expect(await store.setStatus(id, change('validated', 'deprecated'))).toMatchObject({
      applied: false,
      record: { status: 'candidate' },
    });
    expect(await store.setStatus(id, change('candidate', 'validated'))).toMatchObject({
      applied: true,
      record: { status: 'validated', transitions: [change('candidate', 'validated')] },
    });
    expect(await store.setStatus('missing', change('candidate', 'validated'))).toEqual({
      applied: false,
      record: undefined,
    });
    await store.upsert(learned(9, 's-2'));
    expect(await store.get(id)).toMatchObject({ status: 'validated', occurrences: 9 });
  });

  it('hands out snapshots that cannot change the store', async () => {
    const store = new InMemoryPatternStore();
    const { record } = await store.upsert(learned(2));
    (record.sessions as string[]).push('intruder');
    (record.sequence as string[]).push('Bash');
    expect(await store.get(record.pattern_id)).toMatchObject({ sessions: ['s-1'], sequence });
  });
});
