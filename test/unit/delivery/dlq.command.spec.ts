import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { OutgoingMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import { InMemoryEventBus } from '../../../src/intelligence/bus/in-memory-event-bus.js';
import type { DeadLetterEntry } from '../../../src/intelligence/delivery/dead-letter-entry.js';
import type { PurgeReport } from '../../../src/intelligence/delivery/dead-letter-purge.js';
import { runDlqCommand } from '../../../src/intelligence/delivery/dlq.command.js';
import type { ReplayReport } from '../../../src/intelligence/delivery/replay-report.js';
import { DEAD_LETTER_TOPICS } from '../../../src/intelligence/intelligence.constants.js';
import { uniqueTopic } from '../../support/unique-names.js';

const DLQ = DEAD_LETTER_TOPICS.command;

function deadLetter(topic: string, offset: string, value: string | null): OutgoingMessage {
  return {
    key: `key-${offset}`,
    value,
    headers: {
      original_topic: topic,
      original_partition: '0',
      original_offset: offset,
      original_timestamp: '1714560000000',
      consumer_group: 'g-1',
      failure_reason: 'Worker.run: Error: boom',
      failure_class: 'Error',
      failure_timestamp: '2024-05-01T12:00:00.000Z',
      attempts: '3',
    },
  };
}

/** Runs the command, collecting what it prints. */
async function dlq(
  args: string[],
  options: { bus?: InMemoryEventBus; env?: Record<string, string> } = {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDlqCommand({
    env: options.env ?? {},
    args,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    ...(options.bus ? { bus: options.bus } : {}),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('intelligence-dlq', () => {
  let bus: InMemoryEventBus;
  let topic: string;

  beforeEach(async () => {
    bus = new InMemoryEventBus({ partitions: 1 });
    await bus.connect();
    topic = uniqueTopic('jobs', 'cmd');
    await bus.publishBatch(DLQ, [
      deadLetter(topic, '4', '{"job":4,"password":"hunter2-secret"}'),
      deadLetter(topic, '5', null),
    ]);
  });

  afterEach(async () => {
    await bus.disconnect();
  });

  it.each([
    [[], 'expected one command'],
    [['purge'], 'expected one command'],
    [['list', 'extra'], 'expected one command'],
    [['list', '--nope'], "Unknown option '--nope'"],
    [
      ['list', '--original-topic', 't', '--from-offset', '9', '--to-offset', '3'],
      '--from-offset must not be greater',
    ],
    [['list', '--from-offset', '3'], '--from-offset needs an original topic'],
    [['list', '--since', 'last tuesday'], '--since must be an ISO-8601 time'],
    [['replay', '--payloads'], '--payloads is for list only'],
    [['list', '--dry-run'], '--dry-run is for replay only'],
    [['purge-report', '--group', 'g'], '--group is not for purge-report'],
  ])('exits 2 with the usage on %j', async (args, problem) => {
    const { code, out, err } = await dlq(args, { bus });
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain(problem);
    expect(err).toContain('usage: intelligence-dlq');
  });

  it.each([
    [{}, 'KAFKA_BROKERS'],
    [{ KAFKA_BROKERS: 'not a broker' }, 'KAFKA_BROKERS'],
    [{ KAFKA_BROKERS: '127.0.0.1:9092', KAFKA_CLIENT: 'librdkafka' }, 'KAFKA_CLIENT'],
    [
      {
        KAFKA_BROKERS: '127.0.0.1:9092',
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_PASSWORD: 'pw-secret-1',
      },
      'KAFKA_SASL_USERNAME',
    ],
    [
      { KAFKA_BROKERS: '127.0.0.1:9092', KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' },
      'KAFKA_SSL_CA_FILE',
    ],
  ])('exits 2 naming the bad variable, never its value: %j', async (env, variable) => {
    const { code, err } = await dlq(['list'], { env });
    expect(code).toBe(2);
    expect(err).toContain(`Invalid environment variable ${variable}`);
    for (const value of Object.values(env)) expect(err).not.toContain(value);
  });

  it('prints the usage with --help', async () => {
    await expect(dlq(['--help'])).resolves.toMatchObject({
      code: 0,
      out: expect.stringContaining('--from-offset') as unknown,
    });
  });

  it('lists dead letters as a table, with payloads (sanitized) only when asked', async () => {
    const plain = await dlq(['list', '--topic', DLQ], { bus });
    expect(plain.code).toBe(0);
    const [header, first] = plain.out.split('\n');
    expect(header).toMatch(
      /^DEAD LETTER\s+ORIGINAL\s+GROUP\s+CLASS\s+ATTEMPTS\s+FAILED AT\s+RETRIES\s+REPLAYED\s+REASON$/,
    );
    expect(first).toContain(`${DLQ}/0/0`);
    expect(first).toContain(`${topic}/0/4`);
    expect(plain.out).toContain('2 dead letters, 0 replayed already.');
    expect(plain.out).not.toContain('"job"');

    const withPayloads = await dlq(['list', '--topic', DLQ, '--payloads'], { bus });
    expect(withPayloads.out).toContain('value  (utf8) {"job":4');
    expect(withPayloads.out).toContain('value  (tombstone)');
    expect(withPayloads.out).not.toContain('hunter2-secret');
  });

  it('lists as JSON with --json', async () => {
    const { code, out } = await dlq(
      ['list', '--json', '--original-topic', topic, '--from-offset', '5', '--to-offset', '5'],
      { bus },
    );
    expect(code).toBe(0);
    const entries = JSON.parse(out) as DeadLetterEntry[];
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      id: `${DLQ}/0/1`,
      original: { topic, offset: '5' },
      attempts: 3,
    });
    expect(entries[0]?.payload).toBeUndefined();
  });

  it('replays, then sends nothing the second time and says what it skipped', async () => {
    const dry = await dlq(['replay', '--dry-run', '--original-topic', topic], { bus });
    expect(dry).toMatchObject({
      code: 0,
      out: expect.stringContaining(
        'Dry run: would replay 2 dead letters; nothing sent.',
      ) as unknown,
    });

    const first = await dlq(['replay', '--original-topic', topic], { bus });
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^Replayed 2 dead letters \(run [0-9a-f-]{36}\)\.$/m);
    expect(first.out).toContain(`${DLQ}/0/0  ${topic}`);

    const second = await dlq(['replay', '--original-topic', topic, '--json'], { bus });
    const report = JSON.parse(second.out) as ReplayReport;
    expect(report.sent).toEqual([]);
    expect(report.skipped.map((s) => s.id)).toEqual([`${DLQ}/0/0`, `${DLQ}/0/1`]);
    const text = await dlq(['replay', '--original-topic', topic], { bus });
    expect(text.out).toContain('Replayed 0 dead letters');
    expect(text.out).toContain('Skipped 2 dead letters, replayed already:');
  });

  it('prints the purge report', async () => {
    await dlq(['replay', '--original-topic', topic, '--to-offset', '4', '--from-offset', '0'], {
      bus,
    });
    const table = await dlq(['purge-report', '--topic', DLQ], { bus });
    expect(table.code).toBe(0);
    expect(table.out).toMatch(
      new RegExp(
        `^${DLQ.replaceAll('.', '\\.')}\\s+0\\s+2\\s+1\\s+1\\s+2024-05-01T12:00:00.000Z$`,
        'm',
      ),
    );
    const json = await dlq(['purge-report', '--json'], { bus });
    expect((JSON.parse(json.out) as PurgeReport).partitions).toEqual([
      {
        topic: DLQ,
        partition: 0,
        entries: 2,
        replayed: 1,
        safeDeleteBefore: '1',
        oldestAt: '2024-05-01T12:00:00.000Z',
      },
    ]);
  });

  it('exits 1 with the error sanitized when the work fails', async () => {
    class BrokenBus extends InMemoryEventBus {
      override openReader(): never {
        throw new Error('cannot reach sasl://svc:Sup3rS3cret@broker:9093');
      }
    }
    const broken = new BrokenBus();
    const { code, err } = await dlq(['list'], { bus: broken });
    expect(code).toBe(1);
    expect(err).toContain('intelligence-dlq list failed: Error: cannot reach');
    expect(err).not.toContain('Sup3rS3cret');
  });
});
