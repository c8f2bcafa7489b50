import { describe, expect, it } from '@jest/globals';
import {
  PatternIdConflictError,
  type PatternStore,
  type StatusChange,
} from '../../src/nodes/pattern-storage/pattern.store.js';
import { patternIdOf } from '../../src/nodes/shared/pattern-id.compute.js';

export interface PatternStoreHarness {
  /** A store with no pattern in it. */
  createStore: () => PatternStore | Promise<PatternStore>;
  /** The store's bound of the per-pattern session list, if it has one. */
  maxSessions?: number;
}

const sequence = ['Read', 'Edit'];
const learned = (occurrences: number, sessionId = 's-1') => ({
  pattern_id: patternIdOf(sequence),
  sequence,
  occurrences,
  session_id: sessionId,
});
const change = (
  from: StatusChange['from_status'],
  to: StatusChange['to_status'],
  cause = 'topic/0@1#t',
): StatusChange => ({
  from_status: from,
  to_status: to,
  reason: null,
  cause,
  correlation_id: 'c-1',
});

/** The behaviour every `PatternStore` must have; run against each adapter. */
export function describePatternStoreContract(name: string, harness: PatternStoreHarness): void {
  describe(`PatternStore contract: ${name}`, () => {
    it('creates a pattern as a candidate, then merges: occurrences by max, sessions as a set', async () => {
      const store = await harness.createStore();
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

    it('lists patterns in the order they were first stored', async () => {
      const store = await harness.createStore();
      const sequences = [['Grep'], ['Read', 'Bash'], ['Edit', 'Edit', 'Read']];
      for (const tools of sequences) {
        await store.upsert({
          pattern_id: patternIdOf(tools),
          sequence: tools,
          occurrences: 1,
          session_id: 's-1',
        });
      }
      expect((await store.list()).map((record) => record.sequence)).toEqual(sequences);
    });

    it('refuses a second sequence under the same id', async () => {
      const store = await harness.createStore();
      await store.upsert(learned(2));
      await expect(store.upsert({ ...learned(2), sequence: ['Grep', 'Edit'] })).rejects.toThrow(
        PatternIdConflictError,
      );
      expect(await store.get(patternIdOf(sequence))).toMatchObject({ sequence });
    });

    it('changes status only from the expected one (compare-and-set), keeping the status on upsert', async () => {
      const store = await harness.createStore();
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

    it('records each applied transition with its cause, oldest first', async () => {
      const store = await harness.createStore();
      const id = patternIdOf(sequence);
      await store.upsert(learned(2));
      const promote = { ...change('candidate', 'validated', 'a/0@1#t'), reason: 'recurs' };
      const retire = change('validated', 'deprecated', 'a/0@2#t');
      await store.setStatus(id, promote);
      await store.setStatus(id, retire);
      expect(await store.setStatus(id, change('validated', 'deprecated', 'a/0@3#t'))).toMatchObject(
        { applied: false, record: { status: 'deprecated' } },
      );
      expect((await store.get(id))?.transitions).toEqual([promote, retire]);
    });

    it('upserts a batch: results in input order, a repeat in the batch merged, not created', async () => {
      const store = await harness.createStore();
      const other = ['Grep'];
      const grep = (occurrences: number, sessionId: string) => ({
        pattern_id: patternIdOf(other),
        sequence: other,
        occurrences,
        session_id: sessionId,
      });
      await store.upsert(learned(2, 's-0'));
      const results = await store.upsertMany([grep(1, 's-1'), learned(4, 's-1'), grep(3, 's-2')]);
      expect(results.map((result) => [result.record.sequence, result.created])).toEqual([
        [other, true],
        [sequence, false],
        [other, false],
      ]);
      expect(await store.get(patternIdOf(other))).toMatchObject({
        occurrences: 3,
        sessions: ['s-1', 's-2'],
      });
      expect(await store.get(patternIdOf(sequence))).toMatchObject({
        occurrences: 4,
        sessions: ['s-0', 's-1'],
      });
      expect(await store.upsertMany([])).toEqual([]);
      await expect(
        store.upsertMany([{ ...learned(1, 's-3'), sequence: ['Bash'] }]),
      ).rejects.toThrow(PatternIdConflictError);
    });

    it('hands out snapshots that cannot change the store', async () => {
      const store = await harness.createStore();
      const { record } = await store.upsert(learned(2));
      (record.sessions as string[]).push('intruder');
      (record.sequence as string[]).push('Bash');
      expect(await store.get(record.pattern_id)).toMatchObject({ sessions: ['s-1'], sequence });
    });

    const bound = harness.maxSessions;
    (bound === undefined ? it.skip : it)(
      'bounds the session list, keeping the most recent sessions in first-seen order',
      async () => {
        const limit = bound ?? 0;
        const store = await harness.createStore();
        const total = limit + 5;
        for (let i = 1; i <= total; i += 1) await store.upsert(learned(1, `s-${i}`));
        const record = await store.get(patternIdOf(sequence));
        const expected = Array.from({ length: limit }, (_, i) => `s-${total - limit + 1 + i}`);
        expect(record?.sessions).toEqual(expected);
        expect(record?.first_seen_session).toBe('s-1');
        // A session still in the list is a no-op; the record stays the same.
        expect(await store.upsert(learned(1, `s-${total}`))).toEqual({ created: false, record });
      },
    );
  });
}
