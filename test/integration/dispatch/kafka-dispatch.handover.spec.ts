import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import type { ShutdownOptions } from '../../../src/intelligence/intelligence.options.js';
import { assignedPartitions, DispatchApps, work } from '../../support/dispatch-app.js';
import { Journal, journalNode, missing, type Numbered } from '../../support/dispatch-journal.js';
import { envelopeMessage, TestProducer, freshTopic } from '../../support/dispatch-kafka.js';
import { pause, waitFor } from '../../support/wait-for.js';

const PARTITIONS = [0, 1, 2];

/** A gate handlers can wait on, opened once. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('Dispatch on the real broker: shutdown and handover within a consumer group', () => {
  const apps = new DispatchApps();
  let producer: TestProducer;

  beforeAll(async () => {
    producer = await new TestProducer().start();
  });

  afterAll(async () => {
    await producer.stop();
  });

  afterEach(async () => {
    await apps.closeAll();
  });

  /** `perPartition` messages on each partition, in order; returns their ids. */
  async function produceNumbered(topic: string, prefix: string, perPartition: number) {
    const ids: string[] = [];
    const messages = PARTITIONS.flatMap((partition) =>
      Array.from({ length: perPartition }, (_, i) => {
        const id = `${prefix}-p${String(partition)}-${String(i)}`;
        ids.push(id);
        return { ...envelopeMessage<Numbered>(topic, { id }).message, partition };
      }),
    );
    for (let i = 0; i < messages.length; i += 100) {
      await producer.send(topic, messages.slice(i, i + 100));
    }
    return ids;
  }

  function startApp(
    name: string,
    topic: string,
    groupId: string,
    journal: Journal,
    handle: () => Promise<void>,
    shutdown?: ShutdownOptions,
  ): Promise<TestingModule> {
    return apps.start({
      groupId,
      providers: [journalNode(topic, name, journal, handle)],
      ...(shutdown ? { shutdown } : {}),
    });
  }

  async function timed(action: () => Promise<void>): Promise<number> {
    const started = Date.now();
    await action();
    return Date.now() - started;
  }

  // Produced before the first app starts: its first fetch has every partition's messages, so
  // one handler per partition is in flight at once (kafkajs fetches again only once a whole
  // fetch is handled).
  it('leaves handlers still running at the drain deadline uncommitted: the next member gets them', async () => {
    const { topic, groupId } = await freshTopic('drain-deadline');
    const journal = new Journal();
    const all = await produceNumbered(topic, 'm', 2);
    const first = await startApp('first', topic, groupId, journal, () => work(3_000), {
      drainTimeoutMs: 500,
    });
    await waitFor(() => journal.inFlight('first').length === 3, 'one in flight per partition');

    const closeMs = await timed(() => apps.close(first));
    const finishedByFirst = journal.finishedBy('first');
    const cutOff = journal.inFlight('first');
    expect(closeMs).toBeLessThan(2_500);
    expect(finishedByFirst).toEqual([]);
    expect(cutOff.sort()).toEqual(['m-p0-0', 'm-p1-0', 'm-p2-0']);

    await startApp('second', topic, groupId, journal, () => Promise.resolve());
    await waitFor(() => journal.finishedBy('second').length >= all.length, 'second app caught up');
    expect(journal.finishedBy('second').sort()).toEqual([...all].sort());
  });

  it('finishes in-flight handlers within a long enough drain and commits them: not redelivered', async () => {
    const { topic, groupId } = await freshTopic('drain-ok');
    const journal = new Journal();
    const all = await produceNumbered(topic, 'm', 2);
    const first = await startApp('first', topic, groupId, journal, () => work(1_500), {
      drainTimeoutMs: 10_000,
    });
    await waitFor(() => journal.inFlight('first').length === 3, 'one in flight per partition');

    const closeMs = await timed(() => apps.close(first));
    expect(closeMs).toBeGreaterThanOrEqual(1_000);
    expect(journal.inFlight('first')).toEqual([]);
    const finishedByFirst = journal.finishedBy('first').sort();
    expect(finishedByFirst).toEqual(['m-p0-0', 'm-p1-0', 'm-p2-0']);

    await startApp('second', topic, groupId, journal, () => Promise.resolve());
    const rest = missing(all, new Set(finishedByFirst));
    await waitFor(() => journal.finishedBy('second').length >= rest.length, 'second got the rest');
    await pause(1_000);
    expect(journal.finishedBy('second').sort()).toEqual(rest.sort());
  });

  // At least once from the group's very first message: the position a new group starts from
  // must outlive a member that stops (drain deadline, crash, rebalance) before its first commit.
  it('loses nothing when the first member of a new group stops before it ever committed', async () => {
    const { topic, groupId } = await freshTopic('new-group', { committed: false });
    const journal = new Journal();
    const first = await startApp('first', topic, groupId, journal, () => work(3_000), {
      drainTimeoutMs: 500,
    });
    await waitFor(() => assignedPartitions(first, topic).length === 3, 'first app assigned');
    // Produced once the consumer has surely looked up where to start, whatever that policy is.
    await pause(1_000);
    const early = await produceNumbered(topic, 'early', 1);
    await waitFor(() => journal.inFlight('first').length > 0, 'first app handling');
    await apps.close(first);
    expect(journal.finishedBy('first')).toEqual([]);

    const second = await startApp('second', topic, groupId, journal, () => Promise.resolve());
    await waitFor(() => assignedPartitions(second, topic).length === 3, 'second app assigned');
    await pause(1_000);
    const later = await produceNumbered(topic, 'later', 1);
    await waitFor(
      () => missing(later, new Set(journal.finishedBy('second'))).length === 0,
      'second app consuming',
    );
    expect(missing(early, new Set(journal.finishedBy('second')))).toEqual([]);
  });

  describe.each([
    { closing: 'app.close() with the drain', shutdown: { drainTimeoutMs: 5_000 }, stall: false },
    { closing: 'no drain, handlers cut off', shutdown: { drainTimeoutMs: 0 }, stall: true },
  ])('two instances in one group, one closed mid-stream: $closing', ({ shutdown, stall }) => {
    it('hands the closed member’s partitions to the other; every message is handled', async () => {
      const { topic, groupId } = await freshTopic('group');
      const journal = new Journal();
      const stalled = gate();
      const survivor = await startApp('survivor', topic, groupId, journal, () => work(20));
      const victim = await startApp(
        'victim',
        topic,
        groupId,
        journal,
        // Stalled after a few messages, the victim has handlers in flight when it is closed.
        () => (stall && journal.finishedBy('victim').length >= 10 ? stalled.opened : work(20)),
        shutdown,
      );
      await waitFor(
        () =>
          assignedPartitions(victim, topic).length > 0 &&
          assignedPartitions(survivor, topic).length > 0 &&
          [...assignedPartitions(victim, topic), ...assignedPartitions(survivor, topic)].length ===
            3,
        'both members assigned',
      );
      const victimPartitions = assignedPartitions(victim, topic);
      const all = await produceNumbered(topic, 'm', 100);
      await waitFor(
        () =>
          journal.finishedBy('victim').length >= 10 && journal.finishedBy('survivor').length >= 10,
        'both handling',
      );
      if (stall) await waitFor(() => journal.inFlight('victim').length > 0, 'victim stalled');

      await apps.close(victim);
      const cutOff = journal.inFlight('victim');
      const finishedByVictim = journal.finishedBy('victim');
      stalled.open();
      await waitFor(
        () => assignedPartitions(survivor, topic).length === 3,
        'survivor took every partition',
      );
      const handled = () => new Set([...finishedByVictim, ...journal.finishedBy('survivor')]);
      await waitFor(() => missing(all, handled()).length === 0, 'every message handled', 60_000);

      expect(missing(all, handled())).toEqual([]);
      expect(missing(cutOff, new Set(journal.finishedBy('survivor')))).toEqual([]);
      const takenOver = journal.finished.filter(
        (entry) => entry.app === 'survivor' && victimPartitions.includes(entry.partition),
      );
      expect(takenOver.length).toBeGreaterThan(0);
      if (stall) expect(cutOff.length).toBeGreaterThan(0);
    });
  });
});
