import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { KafkaClientName } from '../../../src/intelligence/bus/kafka-bus.options.js';
import { MessageDelivery } from '../../../src/intelligence/delivery/message.delivery.js';
import { retryTierTopic } from '../../../src/intelligence/delivery/retry-tiers.js';
import type { DispatchContext } from '../../../src/intelligence/dispatch/dispatch-context.interface.js';
import { IntelligenceHandler } from '../../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import { IntelligenceNode } from '../../../src/intelligence/dispatch/intelligence-node.decorator.js';
import { DEAD_LETTER_TOPICS } from '../../../src/intelligence/intelligence.constants.js';
import type { IntelligenceEvent } from '../../../src/intelligence/wire/intelligence-event.interface.js';
import { IntelligenceRuntime } from '../../../src/intelligence/runtime/intelligence.runtime.js';
import { DispatchApps } from '../../support/dispatch-app.js';
import {
  envelopeMessage,
  freshTopic,
  RawTopicReader,
  TestProducer,
} from '../../support/dispatch-kafka.js';
import { pause, waitFor } from '../../support/wait-for.js';

const DLQ = DEAD_LETTER_TOPICS.event;
const [TIER_1, TIER_2] = [1_000, 2_000];
const DELAYS = [TIER_1, TIER_2];
const LATER = 30;

interface Handled {
  id: string;
  attempt: number;
  at: number;
}

describe.each<KafkaClientName>(['kafkajs', 'platformatic'])(
  'Retry topics on the real broker (%s)',
  (client) => {
    const apps = new DispatchApps();
    let producer: TestProducer;
    let dlq: RawTopicReader;

    beforeAll(async () => {
      producer = await new TestProducer().start();
      dlq = await new RawTopicReader().start([DLQ]);
    });

    afterAll(async () => {
      await Promise.all([producer.stop(), dlq.stop()]);
    });

    afterEach(async () => {
      await apps.closeAll();
    });

    /** A node failing `failures.get(id)` times per id, recording every run. */
    const nodeOn = (topic: string, failures: Map<string, number>, runs: Handled[]) => {
      @IntelligenceNode({ name: 'tiered-worker', kind: 'effect', version: '1.0.0' })
      @Injectable()
      class TieredWorker {
        @IntelligenceHandler(topic)
        handle(event: IntelligenceEvent<{ id: string }>, ctx: DispatchContext): void {
          const { id } = event.payload;
          runs.push({ id, attempt: ctx.attempt, at: Date.now() });
          const left = failures.get(id) ?? 0;
          if (left > 0) {
            failures.set(id, left - 1);
            throw new Error(`downstream unavailable for ${id}`);
          }
        }
      }
      return TieredWorker;
    };

    it('goes main → tier 1 → tier 2 → success while later messages of its partition flow', async () => {
      const { topic, groupId } = await freshTopic(`tiers-${client}`);
      const runs: Handled[] = [];
      const worker = nodeOn(topic, new Map([['retried', 2]]), runs);
      const key = 'one-partition';
      const messages = [
        envelopeMessage(topic, { id: 'retried' }, key).message,
        ...Array.from(
          { length: LATER },
          (_, n) => envelopeMessage(topic, { id: `later-${String(n)}` }, key).message,
        ),
      ];
      const [first] = await producer.sendToOnePartition(topic, messages);
      const tiers = DELAYS.map((delay) => retryTierTopic(groupId, delay));
      const tierReader = await new RawTopicReader().start(tiers);
      try {
        const app = await apps.start({
          groupId,
          providers: [worker],
          bus: { client },
          dispatch: { retry: { mode: 'topics', delaysMs: DELAYS } },
        });
        await waitFor(
          () => runs.some((run) => run.id === 'retried' && run.attempt === 3),
          'the retried message handled from tier 2',
          30_000,
        );
        const retried = runs.filter((run) => run.id === 'retried');
        expect(retried.map((run) => run.attempt)).toEqual([1, 2, 3]);
        const laterRuns = runs.filter((run) => run.id.startsWith('later-'));
        expect(laterRuns).toHaveLength(LATER);
        // The later messages did not wait for the retries.
        const secondTry = retried[1]?.at ?? 0;
        expect(laterRuns.every((run) => run.at < secondTry)).toBe(true);
        expect((retried[1]?.at ?? 0) - (retried[0]?.at ?? 0)).toBeGreaterThanOrEqual(TIER_1 - 50);
        expect((retried[2]?.at ?? 0) - (retried[1]?.at ?? 0)).toBeGreaterThanOrEqual(TIER_2 - 50);

        await waitFor(
          () => tiers.every((tier) => tierReader.of(tier).length === 1),
          'one message per tier',
        );
        const [tier1, tier2] = tiers.map((tier) => tierReader.of(tier)[0]);
        expect(tier1?.key).toBe(key);
        expect(tier2?.value?.equals(Buffer.from(messages[0]?.value as Buffer))).toBe(true);
        expect(tier2?.headers).toMatchObject({
          retry_group: groupId,
          retry_tier: '2',
          retry_attempt: '2',
          retry_original_topic: topic,
          retry_original_partition: String(first?.partition),
          retry_original_offset: first?.offset,
        });
        expect(dlq.deadLettersOf(DLQ, topic)).toHaveLength(0);
        expect(app.get(MessageDelivery).stats()).toMatchObject({ retryTiered: 2, retried: 0 });
      } finally {
        await tierReader.stop();
      }
    }, 60_000);

    it('sends a message failing on every tier to the dead letters with its history', async () => {
      const { topic, groupId } = await freshTopic(`tiers-dlq-${client}`);
      const runs: Handled[] = [];
      const worker = nodeOn(topic, new Map([['doomed', 99]]), runs);
      const { message } = envelopeMessage(topic, { id: 'doomed' }, 'k');
      const [placed] = await producer.sendToOnePartition(topic, [message]);
      await apps.start({
        groupId,
        providers: [worker],
        bus: { client },
        dispatch: { retry: { mode: 'topics', delaysMs: DELAYS } },
      });
      await waitFor(() => dlq.deadLettersOf(DLQ, topic).length === 1, 'dead letter', 30_000);
      const [letter] = dlq.deadLettersOf(DLQ, topic);
      expect(runs.map((run) => run.attempt)).toEqual([1, 2, 3]);
      expect(letter?.value?.equals(Buffer.from(message.value as Buffer))).toBe(true);
      expect(letter?.headers).toMatchObject({
        original_topic: topic,
        original_partition: String(placed?.partition),
        original_offset: placed?.offset,
        consumer_group: groupId,
        failure_class: 'Error',
        attempts: '3',
      });
      const history = JSON.parse(letter?.headers.retry_history ?? '[]') as {
        attempt: number;
        topic: string;
        reason: string;
      }[];
      expect(history.map((entry) => [entry.attempt, entry.topic])).toEqual([
        [1, topic],
        [2, retryTierTopic(groupId, TIER_1)],
        [3, retryTierTopic(groupId, TIER_2)],
      ]);
      expect(history[2]?.reason).toContain('downstream unavailable for doomed');
    }, 60_000);

    it('holds neither the shutdown nor a restart up with a message waiting a minute on its tier', async () => {
      const { topic, groupId } = await freshTopic(`tiers-wait-${client}`);
      const runs: Handled[] = [];
      const worker = nodeOn(topic, new Map([['waiting', 1]]), runs);
      await producer.sendToOnePartition(topic, [
        envelopeMessage(topic, { id: 'waiting' }, 'k').message,
      ]);
      const options = {
        groupId,
        providers: [worker],
        bus: { client },
        dispatch: { retry: { mode: 'topics' as const, delaysMs: [60_000] } },
      };
      const app = await apps.start(options);
      await waitFor(() => app.get(MessageDelivery).stats().retryTiered === 1, 'sent to the tier');
      const health = () =>
        app
          .get(IntelligenceRuntime)
          .busHealth()
          .subscriptions.map((subscription) => subscription.lastError);
      await pause(1_000);
      expect(health()).toEqual([undefined, undefined]);
      const closing = Date.now();
      await apps.close(app);
      // Well under the drain bound (2 s) plus the minute the message waits.
      expect(Date.now() - closing).toBeLessThan(10_000);
      // A new instance takes the waiting message over: not run before it is due.
      await apps.start(options);
      await pause(1_000);
      expect(runs.map((run) => run.attempt)).toEqual([1]);
    }, 60_000);
  },
);
