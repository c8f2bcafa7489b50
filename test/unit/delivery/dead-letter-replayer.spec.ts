import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { OutgoingMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import { BusPublishError } from '../../../src/intelligence/bus/bus.errors.js';
import { EventBus } from '../../../src/intelligence/bus/event-bus.js';
import { InMemoryEventBus } from '../../../src/intelligence/bus/in-memory-event-bus.js';
import { DEAD_LETTER_HEADERS } from '../../../src/intelligence/delivery/dead-letter.js';
import { DeadLetterReplayer } from '../../../src/intelligence/delivery/dead-letter-replayer.js';
import {
  DeadLetterSelectionError,
  type DeadLetterSelection,
} from '../../../src/intelligence/delivery/dead-letter-selection.js';
import { PermanentHandlerError } from '../../../src/intelligence/delivery/dispatch-outcome.interface.js';
import {
  DEAD_LETTER_REPLAY_TOPIC,
  ledgerRecord,
} from '../../../src/intelligence/delivery/replay-ledger.js';
import { DeadLetterReplayError } from '../../../src/intelligence/delivery/replay-report.js';
import type { DispatchContext } from '../../../src/intelligence/dispatch/dispatch-context.interface.js';
import { IntelligenceHandler } from '../../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import { IntelligenceNode } from '../../../src/intelligence/dispatch/intelligence-node.decorator.js';
import {
  INTELLIGENCE_CONFIG,
  resolveIntelligenceConfig,
} from '../../../src/intelligence/intelligence.config.js';
import { DEAD_LETTER_TOPICS } from '../../../src/intelligence/intelligence.constants.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';
import { createEnvelope, toOutgoing } from '../../../src/intelligence/wire/envelope.js';
import type { IntelligenceEvent } from '../../../src/intelligence/wire/intelligence-event.interface.js';
import { compileIntelligenceApp } from '../../support/intelligence-app.js';
import { readAll } from '../../support/topic-reader-contract.js';
import { uniqueTopic } from '../../support/unique-names.js';
import { waitFor } from '../../support/wait-for.js';

const DLQ = DEAD_LETTER_TOPICS.event;
const config = resolveIntelligenceConfig({ serviceName: 'replay-test' });

interface Letter {
  topic: string;
  offset: string;
  partition?: number;
  group?: string;
  failureClass?: string;
  failedAt?: string;
  key?: string | Buffer | null;
  value?: string | Buffer | null;
  headers?: Record<string, string>;
}

/** A dead letter as the module writes it, with the facts a test picks. */
function letter(l: Letter): OutgoingMessage {
  return {
    key: l.key === undefined ? `key-${l.offset}` : l.key,
    value: l.value === undefined ? `{"n":${l.offset}}` : l.value,
    headers: {
      ...l.headers,
      original_topic: l.topic,
      original_partition: String(l.partition ?? 0),
      original_offset: l.offset,
      original_timestamp: '1714560000000',
      consumer_group: l.group ?? 'g-1',
      failure_reason: 'Node.handle: Error: boom',
      failure_class: l.failureClass ?? 'Error',
      failure_timestamp: l.failedAt ?? '2024-05-01T12:00:00.000Z',
      attempts: '3',
    },
  };
}

describe('DeadLetterReplayer on the embedded bus', () => {
  let bus: InMemoryEventBus;
  let replayer: DeadLetterReplayer;
  let topic: string;

  beforeEach(async () => {
    bus = new InMemoryEventBus({ partitions: 1 });
    await bus.connect();
    replayer = new DeadLetterReplayer(bus, config, new LogSanitizer());
    topic = uniqueTopic('orders');
  });

  afterEach(async () => {
    await bus.disconnect();
  });

  const replayed = async (to = topic) => {
    const reader = await bus.openReader();
    try {
      return await readAll(reader, to);
    } finally {
      await reader.close();
    }
  };

  it('sanitizes every text header of a dead letter some other producer wrote', async () => {
    const secret = (field: string) => `${field} token=abc123-secret-${field}`;
    const written = letter({ topic, offset: '7' });
    await bus.publish(DLQ, {
      ...written,
      headers: {
        ...written.headers,
        consumer_group: secret('group'),
        failure_class: secret('class'),
        correlation_id: secret('correlation'),
        replayed_from: secret('replayed'),
        retry_history: JSON.stringify([
          {
            attempt: 1,
            topic: secret('topic'),
            failureClass: secret('hclass'),
            reason: secret('reason'),
            at: secret('at'),
          },
        ]),
      },
    });

    const [entry] = await replayer.list();

    const shown = JSON.stringify(entry);
    expect(shown).not.toContain('abc123-secret');
    for (const field of [
      'group',
      'class',
      'correlation',
      'replayed',
      'topic',
      'hclass',
      'reason',
      'at',
    ]) {
      expect(shown).toContain(`${field} token=`);
    }
  });

  it('lists dead letters with their provenance, and payloads only when asked', async () => {
    const binary = Buffer.from([0xc3, 0x28, 0xff]);
    await bus.publishBatch(DLQ, [
      {
        ...letter({ topic, offset: '5', partition: 2 }),
        headers: {
          ...letter({ topic, offset: '5', partition: 2 }).headers,
          correlation_id: 'c-1',
          failure_reason: 'Node.handle: Error: login failed password=hunter2-secret',
        },
      },
      letter({
        topic,
        offset: '6',
        key: null,
        value: binary,
        failureClass: 'InvalidMessage:bad_utf8',
      }),
      { key: 'x', value: 'not a dead letter' },
    ]);

    const entries = await replayer.list();

    expect(entries).toHaveLength(2);
    const [first, second] = entries;
    expect(first).toEqual({
      id: `${DLQ}/0/0`,
      topic: DLQ,
      partition: 0,
      offset: '0',
      original: { topic, partition: 2, offset: '5', timestamp: '2024-05-01T10:40:00.000Z' },
      consumerGroup: 'g-1',
      failureClass: 'Error',
      failureReason: expect.stringContaining('login failed') as unknown,
      failedAt: '2024-05-01T12:00:00.000Z',
      attempts: 3,
      correlationId: 'c-1',
    });
    expect(first?.failureReason).not.toContain('hunter2-secret');
    expect(second?.payload).toBeUndefined();

    const withPayloads = await replayer.list({ includePayload: true });
    expect(withPayloads.map((entry) => entry.payload)).toEqual([
      { key: { encoding: 'utf8', data: 'key-5' }, value: { encoding: 'utf8', data: '{"n":5}' } },
      { key: null, value: { encoding: 'base64', data: binary.toString('base64') } },
    ]);
  });

  it('shows the retry history of a dead letter that went through retry tiers', async () => {
    const history = [
      {
        tier: 1,
        topic,
        failureClass: 'Error',
        reason: 'boom token=abcdef1234567890',
        at: '2024-05-01T11:00:00.000Z',
      },
      {
        tier: 2,
        topic: `${topic}.retry-2`,
        failureClass: 'Error',
        reason: 'boom',
        at: '2024-05-01T11:01:00.000Z',
      },
    ];
    const plain = letter({ topic, offset: '2' });
    await bus.publishBatch(DLQ, [
      { ...plain, headers: { ...plain.headers, retry_history: JSON.stringify(history) } },
      { ...plain, headers: { ...plain.headers, retry_history: '{not json' } },
    ]);

    const [tiered, unreadable] = await replayer.list();

    expect(tiered?.retryHistory).toHaveLength(2);
    expect(tiered?.retryHistory?.[1]).toEqual(history[1]);
    expect(tiered?.retryHistory?.[0]?.reason).not.toContain('abcdef1234567890');
    expect(unreadable?.retryHistory).toBeUndefined();
  });

  it('selects by dead-letter topic, original topic, offset range, failure class, time and group', async () => {
    const other = uniqueTopic('payments');
    const ownDlq = 'onex.dlq.test.custom.v1';
    await bus.publishBatch(DLQ, [
      letter({ topic, offset: '1', failedAt: '2024-05-01T10:00:00.000Z' }),
      letter({
        topic,
        offset: '2',
        failureClass: 'InvalidMessage:bad_json',
        failedAt: '2024-05-02T10:00:00.000Z',
      }),
      letter({ topic, offset: '3', group: 'g-2', failedAt: '2024-05-03T10:00:00.000Z' }),
      letter({ topic: other, offset: '2', failedAt: '2024-05-04T10:00:00.000Z' }),
    ]);
    await bus.publish(ownDlq, letter({ topic, offset: '9' }));
    const offsetsOf = async (selection: DeadLetterSelection) =>
      (await replayer.list(selection)).map(
        (e) => `${e.original.topic === topic ? 'A' : 'B'}${e.original.offset}`,
      );

    await expect(offsetsOf({})).resolves.toEqual(['A1', 'A2', 'A3', 'B2']);
    await expect(offsetsOf({ originalTopic: topic })).resolves.toEqual(['A1', 'A2', 'A3']);
    await expect(
      offsetsOf({ originalTopic: topic, fromOffset: 2, toOffset: '3' }),
    ).resolves.toEqual(['A2', 'A3']);
    await expect(offsetsOf({ originalTopic: topic, toOffset: 1n })).resolves.toEqual(['A1']);
    await expect(offsetsOf({ failureClass: 'InvalidMessage' })).resolves.toEqual(['A2']);
    await expect(offsetsOf({ failureClass: 'InvalidMessage:bad_json' })).resolves.toEqual(['A2']);
    await expect(offsetsOf({ failureClass: 'Error' })).resolves.toEqual(['A1', 'A3', 'B2']);
    await expect(
      offsetsOf({ since: '2024-05-02T00:00:00Z', until: new Date('2024-05-03T12:00:00Z') }),
    ).resolves.toEqual(['A2', 'A3']);
    await expect(offsetsOf({ consumerGroup: 'g-2' })).resolves.toEqual(['A3']);
    await expect(offsetsOf({ topics: [ownDlq] })).resolves.toEqual(['A9']);

    const configured = new DeadLetterReplayer(
      bus,
      resolveIntelligenceConfig({ serviceName: 'x', dispatch: { deadLetter: { topic: ownDlq } } }),
    );
    await expect(configured.list()).resolves.toHaveLength(5);
  });

  it.each<[DeadLetterSelection, keyof DeadLetterSelection]>([
    [{ originalTopic: 't', fromOffset: 5, toOffset: 4 }, 'fromOffset'],
    [{ fromOffset: 1 }, 'fromOffset'],
    [{ toOffset: 1 }, 'toOffset'],
    [{ originalTopic: 't', fromOffset: -1 }, 'fromOffset'],
    [{ originalTopic: 't', toOffset: '1.5' }, 'toOffset'],
    [{ since: 'yesterday' }, 'since'],
    [{ until: '2024-13-45T99:00:00Z' }, 'until'],
    [{ since: '2024-05-02', until: '2024-05-01' }, 'since'],
    [{ topics: [] }, 'topics'],
  ])('refuses the selection %j, naming %s', async (selection, field) => {
    const error = await replayer.list(selection).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeadLetterSelectionError);
    expect((error as DeadLetterSelectionError).field).toBe(field);
    expect((error as Error).message).toContain(field);
    await expect(replayer.replay(selection)).rejects.toBeInstanceOf(DeadLetterSelectionError);
  });

  it('replays to the original topic: same key and value bytes, no failure or retry headers, replayed_from', async () => {
    const binary = Buffer.from([0x00, 0xc3, 0x28, 0xff]);
    const withHeaders = letter({
      topic,
      offset: '7',
      key: Buffer.from([0x01, 0x02]),
      value: binary,
      headers: {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tenant: 'blue',
        correlation_id: 'c-7',
        retry_attempt: '2',
        retry_tier: '1',
        retry_history: '[]',
        retry_original_topic: topic,
        replayed_from: 'onex.dlq.events.v1/0/0',
      },
    });
    await bus.publishBatch(DLQ, [
      withHeaders,
      letter({ topic, offset: '8', key: 'k-8', value: null }),
    ]);

    const report = await replayer.replay();

    expect(report.dryRun).toBe(false);
    expect(report.sent).toEqual([
      { id: `${DLQ}/0/0`, to: topic, original: `${topic}/0/7` },
      { id: `${DLQ}/0/1`, to: topic, original: `${topic}/0/8` },
    ]);
    expect(report.skipped).toEqual([]);
    const [bytes, tombstone] = await replayed();
    expect(bytes?.key).toEqual(Buffer.from([0x01, 0x02]));
    expect(bytes?.value).toEqual(binary);
    expect(bytes?.headers).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tenant: 'blue',
      correlation_id: 'c-7',
      replayed_from: `${DLQ}/0/0`,
    });
    for (const name of DEAD_LETTER_HEADERS.filter((h) => h !== 'correlation_id')) {
      expect(tombstone?.headers).not.toHaveProperty(name);
    }
    expect(tombstone?.key?.toString()).toBe('k-8');
    expect(tombstone?.value).toBeNull();
    expect(tombstone?.headers.replayed_from).toBe(`${DLQ}/0/1`);
  });

  it('sends nothing on a second identical replay, and reports what it skipped', async () => {
    await bus.publishBatch(DLQ, [letter({ topic, offset: '1' }), letter({ topic, offset: '2' })]);

    const first = await replayer.replay({ originalTopic: topic });
    const second = await replayer.replay({ originalTopic: topic });

    expect(first.sent).toHaveLength(2);
    expect(second.sent).toEqual([]);
    expect(second.runId).not.toBe(first.runId);
    expect(second.skipped).toEqual([
      {
        id: `${DLQ}/0/0`,
        reason: 'already-replayed',
        replayedAt: expect.any(String) as unknown,
        runId: first.runId,
      },
      {
        id: `${DLQ}/0/1`,
        reason: 'already-replayed',
        replayedAt: expect.any(String) as unknown,
        runId: first.runId,
      },
    ]);
    await expect(replayed()).resolves.toHaveLength(2);
    const listed = await replayer.list();
    expect(listed.map((entry) => entry.replayed?.runId)).toEqual([first.runId, first.runId]);
  });

  it('sends and records nothing on a dry run', async () => {
    await bus.publish(DLQ, letter({ topic, offset: '1' }));

    const dry = await replayer.replay({}, { dryRun: true });

    expect(dry).toMatchObject({
      dryRun: true,
      sent: [{ id: `${DLQ}/0/0`, to: topic }],
      skipped: [],
    });
    await expect(replayed()).resolves.toEqual([]);
    await expect(replayed(DEAD_LETTER_REPLAY_TOPIC)).resolves.toEqual([]);
    await expect(replayer.replay()).resolves.toMatchObject({ sent: [{ id: `${DLQ}/0/0` }] });
  });

  it('replays only the selection; a broader run later sends the rest and skips the first', async () => {
    await bus.publishBatch(DLQ, [
      letter({ topic, offset: '1', failureClass: 'InvalidMessage:bad_json' }),
      letter({ topic, offset: '2' }),
    ]);

    const narrow = await replayer.replay({ failureClass: 'InvalidMessage' });
    const broad = await replayer.replay();

    expect(narrow.sent.map((s) => s.original)).toEqual([`${topic}/0/1`]);
    expect(broad.sent.map((s) => s.original)).toEqual([`${topic}/0/2`]);
    expect(broad.skipped.map((s) => s.id)).toEqual([`${DLQ}/0/0`]);
  });

  it('does not take the ledger record of another dead letter at the same position for a replay', async () => {
    await bus.publish(DLQ, letter({ topic, offset: '1' }));
    const [entry] = await replayer.list();
    if (!entry) throw new Error('no entry');
    // As if the dead-letter topic had been deleted and created again: same id, other message.
    await bus.publish(
      DEAD_LETTER_REPLAY_TOPIC,
      ledgerRecord(
        { ...entry, original: { ...entry.original, offset: '999' } },
        'old-run',
        new Date(),
      ),
    );

    const report = await replayer.replay();

    expect(report.sent.map((s) => s.id)).toEqual([entry.id]);
  });

  it('stops on a failed publish with the report of what it sent, and records only that', async () => {
    const broken = uniqueTopic('broken');
    class FailingBus extends InMemoryEventBus {
      override publish(to: string, message: OutgoingMessage): Promise<void> {
        if (to === broken)
          return Promise.reject(new BusPublishError('broker said no, password=hunter2-secret'));
        return super.publish(to, message);
      }
    }
    const failing = new FailingBus({ partitions: 1 });
    await failing.connect();
    await failing.publishBatch(DLQ, [
      letter({ topic, offset: '1' }),
      letter({ topic: broken, offset: '2' }),
      letter({ topic, offset: '3' }),
    ]);
    const failingReplayer = new DeadLetterReplayer(failing, config);

    const error = await failingReplayer.replay().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(DeadLetterReplayError);
    const { report, message } = error as DeadLetterReplayError;
    expect(message).toContain(`publishing ${DLQ}/0/1 to ${broken} failed`);
    expect(message).not.toContain('hunter2-secret');
    expect(report.sent.map((s) => s.id)).toEqual([`${DLQ}/0/0`, `${DLQ}/0/2`]);
    const again = await failingReplayer.replay({ originalTopic: topic });
    expect(again.sent).toEqual([]);
    expect(again.skipped).toHaveLength(2);
    await failing.disconnect();
  });

  it('reports per partition what was replayed and below which offset all of it was, deleting nothing', async () => {
    const other = uniqueTopic('other');
    await bus.publishBatch(DLQ, [
      letter({ topic, offset: '1', failedAt: '2024-05-01T08:00:00.000Z' }),
      letter({ topic, offset: '2', failedAt: '2024-05-01T09:00:00.000Z' }),
      letter({ topic: other, offset: '3', failedAt: '2024-05-01T07:00:00.000Z' }),
      letter({ topic, offset: '4', failedAt: '2024-05-01T10:00:00.000Z' }),
    ]);

    await expect(replayer.purgeReport()).resolves.toEqual({
      partitions: [
        {
          topic: DLQ,
          partition: 0,
          entries: 4,
          replayed: 0,
          safeDeleteBefore: '0',
          oldestAt: '2024-05-01T07:00:00.000Z',
        },
      ],
    });
    await replayer.replay({ originalTopic: topic });
    await expect(replayer.purgeReport({ topics: [DLQ] })).resolves.toMatchObject({
      partitions: [{ entries: 4, replayed: 3, safeDeleteBefore: '2' }],
    });
    await replayer.replay();
    await expect(replayer.purgeReport()).resolves.toMatchObject({
      partitions: [{ entries: 4, replayed: 4, safeDeleteBefore: '4' }],
    });
    await expect(replayer.list()).resolves.toHaveLength(4);
  });

  it('is built by Nest from EventBus, INTELLIGENCE_CONFIG and LogSanitizer', async () => {
    const app = await Test.createTestingModule({
      providers: [
        DeadLetterReplayer,
        { provide: EventBus, useValue: bus },
        { provide: INTELLIGENCE_CONFIG, useValue: config },
        { provide: LogSanitizer, useValue: new LogSanitizer() },
      ],
    }).compile();
    await bus.publish(DLQ, letter({ topic, offset: '1' }));
    await expect(app.get(DeadLetterReplayer).list()).resolves.toHaveLength(1);
    await app.close();
  });
});

describe('DeadLetterReplayer with the module on the embedded bus', () => {
  const topic = 'onex.evt.test.replayed-order.v1';
  const seen: { id: string; attempt: number; replayedFrom: string | undefined }[] = [];
  let broken = true;

  @IntelligenceNode({ name: 'replay-target', kind: 'compute', version: '1.0.0' })
  @Injectable()
  class ReplayTarget {
    @IntelligenceHandler(topic)
    handle(event: IntelligenceEvent<{ id: string }>, ctx: DispatchContext): void {
      seen.push({
        id: event.payload.id,
        attempt: ctx.attempt,
        replayedFrom: event.headers.replayed_from,
      });
      if (broken) throw new PermanentHandlerError('not today');
    }
  }

  it('brings a dead-lettered message back to its handler with replayed_from and a fresh attempt', async () => {
    const app = await compileIntelligenceApp(
      { serviceName: 'replay-module', introspection: { enabled: false } },
      { providers: [ReplayTarget] },
    );
    await app.init();
    try {
      const bus = app.get(EventBus);
      const replayer = new DeadLetterReplayer(
        bus,
        app.get(INTELLIGENCE_CONFIG),
        app.get(LogSanitizer),
      );
      await bus.publish(topic, toOutgoing(createEnvelope({ topic, payload: { id: 'o-1' } })));
      await waitFor(
        async () => (await replayer.list({ originalTopic: topic })).length === 1,
        'dead-lettered',
      );
      const [entry] = await replayer.list({ originalTopic: topic });
      expect(entry).toMatchObject({
        failureClass: 'PermanentHandlerError',
        attempts: 1,
        consumerGroup: expect.any(String) as unknown,
      });

      broken = false;
      const report = await replayer.replay({ originalTopic: topic });

      expect(report.sent).toHaveLength(1);
      await waitFor(() => seen.length === 2, 'the replay handled');
      expect(seen[1]).toEqual({ id: 'o-1', attempt: 1, replayedFrom: entry?.id });
      await expect(replayer.replay({ originalTopic: topic })).resolves.toMatchObject({ sent: [] });
    } finally {
      await app.close();
    }
  });
});
