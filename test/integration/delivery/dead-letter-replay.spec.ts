import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { EventBus } from '../../../src/intelligence/bus/event-bus.js';
import type { KafkaClientName } from '../../../src/intelligence/bus/kafka-bus.options.js';
import { DEAD_LETTER_HEADERS } from '../../../src/intelligence/delivery/dead-letter.js';
import { DeadLetterReplayer } from '../../../src/intelligence/delivery/dead-letter-replayer.js';
import { PermanentHandlerError } from '../../../src/intelligence/delivery/dispatch-outcome.interface.js';
import { IntelligenceHandler } from '../../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import type { DispatchContext } from '../../../src/intelligence/dispatch/dispatch-context.interface.js';
import { IntelligenceNode } from '../../../src/intelligence/dispatch/intelligence-node.decorator.js';
import type { IntelligenceEvent } from '../../../src/intelligence/wire/intelligence-event.interface.js';
import { resolveIntelligenceConfig } from '../../../src/intelligence/intelligence.config.js';
import { DispatchApps } from '../../support/dispatch-app.js';
import {
  createTopics,
  envelopeMessage,
  freshTopic,
  RawTopicReader,
  TestProducer,
} from '../../support/dispatch-kafka.js';
import { testKafkaBus, testPlatformaticBus } from '../../support/kafka-env.js';
import { pause, waitFor } from '../../support/wait-for.js';

const buses: Record<KafkaClientName, () => EventBus> = {
  kafkajs: () => testKafkaBus(),
  platformatic: () => testPlatformaticBus(),
};

describe.each(['kafkajs', 'platformatic'] as const)(
  'Dead-letter replay on the real broker (%s)',
  (client) => {
    const apps = new DispatchApps();
    let producer: TestProducer;
    let bus: EventBus;

    beforeAll(async () => {
      producer = await new TestProducer().start();
      bus = buses[client]();
      await bus.connect();
    });

    afterAll(async () => {
      await Promise.all([producer.stop(), bus.disconnect()]);
    });

    afterEach(async () => {
      await apps.closeAll();
    });

    it('lists what the module dead-lettered, replays it to the original topic once, and a second replay sends nothing', async () => {
      const { topic, groupId } = await freshTopic(`replay-${client}`, { committed: false });
      const deadLetters = `onex.dlq.test.replay-${randomUUID().slice(0, 8)}.v1`;
      await createTopics([deadLetters]);

      @IntelligenceNode({ name: `refusing-${client}`, kind: 'compute', version: '1.0.0' })
      @Injectable()
      class Refusing {
        @IntelligenceHandler(topic)
        handle(): void {
          throw new PermanentHandlerError('orders are closed today');
        }
      }

      const orders = [
        envelopeMessage(topic, { order: 'a' }, 'key-a'),
        envelopeMessage(topic, { order: 'b' }, 'key-b'),
      ];
      const tombstone = { key: 'key-t', value: null, headers: { tenant: 'blue' } };
      await producer.send(topic, [...orders.map(({ message }) => message), tombstone]);
      const original = await new RawTopicReader().start([topic]);
      try {
        const app = await apps.start({
          groupId,
          providers: [Refusing],
          bus: { client },
          dispatch: { deadLetter: { topic: deadLetters } },
        });
        const replayer = new DeadLetterReplayer(
          bus,
          resolveIntelligenceConfig({
            serviceName: 'replay-it',
            dispatch: { deadLetter: { topic: deadLetters } },
          }),
        );
        const selection = { topics: [deadLetters], originalTopic: topic };
        await waitFor(
          async () => (await replayer.list(selection)).length === 3,
          'three dead letters listed',
          30_000,
          500,
        );
        await apps.close(app);

        const entries = await replayer.list(selection);
        const byKey = new Map(original.of(topic).map((message) => [message.key, message] as const));
        expect(entries.map((e) => e.failureClass).sort()).toEqual([
          'InvalidMessage:empty',
          'PermanentHandlerError',
          'PermanentHandlerError',
        ]);
        for (const entry of entries) {
          expect(entry.topic).toBe(deadLetters);
          expect(entry.consumerGroup).toBe(groupId);
          expect(entry.attempts).toBe(1);
          expect(entry.payload).toBeUndefined();
          expect(entry.replayed).toBeUndefined();
          const source = [...byKey.values()].find(
            (m) =>
              String(m.partition) === String(entry.original.partition) &&
              m.offset === entry.original.offset,
          );
          expect(source).toBeDefined();
        }
        const withPayloads = await replayer.list({ ...selection, includePayload: true });
        expect(withPayloads.map((e) => e.payload?.value?.data ?? null).sort()).toEqual(
          [...orders.map(({ message }) => String(message.value)), null].sort(),
        );

        const first = await replayer.replay(selection);

        expect(first.sent).toHaveLength(3);
        expect(first.skipped).toEqual([]);
        const replays = () => original.of(topic).filter((m) => m.headers.replayed_from);
        await waitFor(() => replays().length === 3, 'three replays on the original topic');
        for (const replay of replays()) {
          const source = byKey.get(replay.key);
          expect(replay.value === null ? null : replay.value.toString()).toBe(
            source?.value === null ? null : source?.value.toString(),
          );
          expect(replay.headers.replayed_from).toMatch(
            new RegExp(`^${deadLetters.replaceAll('.', '\\.')}/\\d+/\\d+$`),
          );
          for (const name of DEAD_LETTER_HEADERS.filter((h) => h !== 'correlation_id')) {
            expect(replay.headers).not.toHaveProperty(name);
          }
        }
        const replayedOrder = replays().find((m) => m.key === 'key-a');
        expect(replayedOrder?.headers.correlation_id).toBe(orders[0]?.envelope.correlation_id);
        expect(replays().find((m) => m.key === 'key-t')?.headers.tenant).toBe('blue');

        const second = await replayer.replay(selection);

        expect(second.sent).toEqual([]);
        expect(second.skipped.map((s) => s.runId)).toEqual([first.runId, first.runId, first.runId]);
        await pause(1_000);
        expect(replays()).toHaveLength(3);
        const purge = await replayer.purgeReport({ topics: [deadLetters] });
        expect(purge.partitions.reduce((sum, p) => sum + p.entries, 0)).toBe(3);
        expect(purge.partitions.every((p) => p.replayed === p.entries)).toBe(true);
      } finally {
        await original.stop();
      }
    }, 90_000);

    it('replays a message that used up its attempts with a fresh count: its handler sees attempt 1', async () => {
      const { topic, groupId } = await freshTopic(`replay-fresh-${client}`, { committed: false });
      const deadLetters = `onex.dlq.test.replay-fresh-${randomUUID().slice(0, 8)}.v1`;
      await createTopics([deadLetters]);
      const seen: { attempt: number; replayedFrom: string | undefined }[] = [];
      let healed = false;

      @IntelligenceNode({ name: `flaky-${client}`, kind: 'compute', version: '1.0.0' })
      @Injectable()
      class Flaky {
        @IntelligenceHandler(topic)
        handle(event: IntelligenceEvent, ctx: DispatchContext): void {
          seen.push({ attempt: ctx.attempt, replayedFrom: event.headers.replayed_from });
          if (!healed) throw new Error('the ledger service is down');
        }
      }

      await producer.send(topic, [envelopeMessage(topic, { order: 'f' }, 'key-f').message]);
      await apps.start({
        groupId,
        providers: [Flaky],
        bus: { client },
        dispatch: {
          maxAttempts: 3,
          backoff: { initialMs: 20, maxMs: 20 },
          deadLetter: { topic: deadLetters },
        },
      });
      const replayer = new DeadLetterReplayer(
        bus,
        resolveIntelligenceConfig({
          serviceName: 'replay-fresh',
          dispatch: { deadLetter: { topic: deadLetters } },
        }),
      );
      const selection = { topics: [deadLetters], originalTopic: topic };
      await waitFor(
        async () => (await replayer.list(selection)).length === 1,
        'the dead letter after three attempts',
        30_000,
        500,
      );
      const [entry] = await replayer.list(selection);
      expect(entry).toMatchObject({ attempts: 3, failureClass: 'Error', consumerGroup: groupId });
      expect(seen.map((run) => run.attempt)).toEqual([1, 2, 3]);

      healed = true;
      const report = await replayer.replay(selection);

      expect(report.sent).toHaveLength(1);
      await waitFor(() => seen.length === 4, 'the replay handled');
      expect(seen[3]).toEqual({ attempt: 1, replayedFrom: entry?.id });
      await pause(500);
      expect(seen).toHaveLength(4);
      expect(await replayer.list(selection)).toHaveLength(1);
    }, 90_000);
  },
);
