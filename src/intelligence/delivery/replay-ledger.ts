import type { OutgoingMessage } from '../bus/bus-message.interface.js';
import type { TopicReader } from '../bus/topic-reader.js';
import type { DeadLetterEntry } from './dead-letter-entry.js';

/**
 * The replay ledger: one record per replayed dead letter, keyed by its id
 * (`<dlqTopic>/<partition>/<offset>`), so a replay run skips what an earlier run sent. The bus
 * creates it on first use like any topic it publishes to, with the broker's defaults: make it
 * compacted (`cleanup.policy=compact`), or a retention shorter than the dead-letter topics'
 * lets it forget replays whose dead letters are still there.
 */
export const DEAD_LETTER_REPLAY_TOPIC = 'onex.dlq.replays.v1';

/** The value of a ledger record (JSON). */
export interface ReplayRecord {
  /** When the replayed message was accepted by the broker (ISO-8601). */
  replayedAt: string;
  /** The topic it was replayed to. */
  to: string;
  runId: string;
  /**
   * The dead letter's identity besides its id: where it originally failed and when. A
   * dead-letter topic deleted and created again reuses offsets; its new dead letters differ here.
   */
  original: string;
  failedAt: string;
}

/** The ledger as read at the start of a run. */
export class ReplayLedger {
  private constructor(private readonly records: ReadonlyMap<string, ReplayRecord>) {}

  /** Reads the whole ledger topic (a missing topic is an empty ledger). */
  static async read(reader: TopicReader): Promise<ReplayLedger> {
    const records = new Map<string, ReplayRecord>();
    for await (const message of reader.read(DEAD_LETTER_REPLAY_TOPIC)) {
      const id = message.key?.toString('utf8');
      const record = parseRecord(message.value);
      if (id && record) records.set(id, record);
    }
    return new ReplayLedger(records);
  }

  /** The ledger record of `entry`: its replay, if one was recorded for this very dead letter. */
  find(entry: DeadLetterEntry): ReplayRecord | undefined {
    const record = this.records.get(entry.id);
    return record?.original === identity(entry) && record.failedAt === entry.failedAt
      ? record
      : undefined;
  }
}

/** The ledger record of `entry`, replayed to its original topic by run `runId` at `at`. */
export function ledgerRecord(entry: DeadLetterEntry, runId: string, at: Date): OutgoingMessage {
  const record: ReplayRecord = {
    replayedAt: at.toISOString(),
    to: entry.original.topic,
    runId,
    original: identity(entry),
    failedAt: entry.failedAt,
  };
  return {
    key: entry.id,
    value: JSON.stringify(record),
    headers: { content_type: 'application/json' },
  };
}

function identity(entry: DeadLetterEntry): string {
  const { topic, partition, offset } = entry.original;
  return `${topic}/${String(partition)}/${offset}`;
}

function parseRecord(value: Buffer | null): ReplayRecord | undefined {
  if (value === null) return undefined;
  try {
    const record = JSON.parse(value.toString('utf8')) as Partial<
      Record<keyof ReplayRecord, unknown>
    >;
    const fields = [record.replayedAt, record.to, record.runId, record.original, record.failedAt];
    return fields.every((field) => typeof field === 'string')
      ? (record as ReplayRecord)
      : undefined;
  } catch {
    return undefined;
  }
}
