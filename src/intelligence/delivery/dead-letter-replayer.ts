import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BusMessage } from '../bus/bus-message.interface.js';
import { EventBus } from '../bus/event-bus.js';
import type { TopicReader } from '../bus/topic-reader.js';
import { INTELLIGENCE_CONFIG, type IntelligenceConfig } from '../intelligence.config.js';
import { DEAD_LETTER_TOPICS } from '../intelligence.constants.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import { payloadOf, toDeadLetterEntry, type DeadLetterEntry } from './dead-letter-entry.js';
import { PurgeTally, type PurgeReport } from './dead-letter-purge.js';
import {
  resolveSelection,
  type DeadLetterSelection,
  type ResolvedSelection,
} from './dead-letter-selection.js';
import { DEAD_LETTER_REPLAY_TOPIC, ledgerRecord, ReplayLedger } from './replay-ledger.js';
import { replayMessage } from './replay-message.js';
import { DeadLetterReplayError, type ReplayedEntry, type ReplayReport } from './replay-report.js';

/** What the replayer needs of the module's configuration (an `IntelligenceConfig` has it). */
export interface DeadLetterReplayerConfig {
  dispatch: Pick<IntelligenceConfig['dispatch'], 'deadLetter'>;
}

export interface DeadLetterListOptions extends DeadLetterSelection {
  /** Include each dead letter's key and value (`payload`). @default false */
  includePayload?: boolean;
}

export interface ReplayOptions {
  /** Report what would be sent, and send and record nothing. @default false */
  dryRun?: boolean;
}

interface ReadDeadLetter {
  entry: DeadLetterEntry;
  message: BusMessage;
}

/** Replays published at once at most: a count, and bytes (under the broker's request limit). */
const CHUNK_MESSAGES = 100;
const CHUNK_BYTES = 512 * 1024;

/**
 * Lists dead letters with their provenance, replays a selection of them to their original
 * topics, and reports what a dead-letter topic holds that was replayed. It reads through the
 * bus's `TopicReader` (no consumer group moves) and publishes through the bus.
 *
 * A replay run is idempotent: it reads the replay ledger (`DEAD_LETTER_REPLAY_TOPIC`) first
 * and skips every dead letter an earlier run recorded there; it records each dead letter once
 * the publish of its replay resolved. A crash, or a failed ledger write, between the two sends
 * that dead letter again on the next run: replays are at least once. Runs at the same time do
 * not see each other's records. A replay is published with its original key, so it lands in
 * the partition the partitioner picks for it (the original one unless the key is null or the
 * partition count changed); a failed publish may leave later ones of its chunk sent before it.
 */
@Injectable()
export class DeadLetterReplayer {
  private readonly logger = new Logger('DeadLetterReplayer');

  constructor(
    private readonly bus: EventBus,
    @Inject(INTELLIGENCE_CONFIG) private readonly config: DeadLetterReplayerConfig,
    private readonly sanitizer: LogSanitizer = new LogSanitizer(),
  ) {}

  /**
   * The selected dead letters, by topic, partition and offset, each with whether it was
   * replayed; payloads only with `includePayload`. Throws `DeadLetterSelectionError` for a
   * selection it cannot use.
   */
  async list(options: DeadLetterListOptions = {}): Promise<DeadLetterEntry[]> {
    const { includePayload = false, ...selection } = options;
    const resolved = resolveSelection(selection, this.defaultTopics());
    return this.reading(async (reader) => {
      const ledger = await ReplayLedger.read(reader);
      const entries: DeadLetterEntry[] = [];
      for await (const { entry, message } of this.selected(reader, resolved)) {
        const record = ledger.find(entry);
        entries.push({
          ...entry,
          ...(record ? { replayed: { at: record.replayedAt, runId: record.runId } } : {}),
          ...(includePayload ? { payload: payloadOf(message) } : {}),
        });
      }
      return entries.sort(byPosition(resolved.topics));
    });
  }

  /**
   * Publishes each selected dead letter that no earlier run replayed to its original topic
   * (see `replayMessage`), in dead-letter order, and records it in the ledger. Throws
   * `DeadLetterSelectionError` for a bad selection, `DeadLetterReplayError` (with the report
   * so far) when a publish fails.
   */
  async replay(
    selection: DeadLetterSelection = {},
    options: ReplayOptions = {},
  ): Promise<ReplayReport> {
    const resolved = resolveSelection(selection, this.defaultTopics());
    const report: ReplayReport = {
      runId: randomUUID(),
      dryRun: options.dryRun ?? false,
      sent: [],
      skipped: [],
    };
    const due = await this.reading(async (reader) => {
      const ledger = await ReplayLedger.read(reader);
      const letters: ReadDeadLetter[] = [];
      for await (const letter of this.selected(reader, resolved)) letters.push(letter);
      const order = byPosition(resolved.topics);
      letters.sort((a, b) => order(a.entry, b.entry));
      return letters.filter(({ entry }) => {
        const record = ledger.find(entry);
        if (!record) return true;
        report.skipped.push({
          id: entry.id,
          reason: 'already-replayed',
          replayedAt: record.replayedAt,
          runId: record.runId,
        });
        return false;
      });
    });
    if (report.dryRun) {
      report.sent = due.map(({ entry }) => sentOf(entry));
      return report;
    }
    for (const chunk of chunks(due)) await this.send(chunk, report);
    this.logger.log({
      msg: 'Dead letters replayed',
      runId: report.runId,
      sent: report.sent.length,
      skipped: report.skipped.length,
    });
    return report;
  }

  /**
   * For each partition of the dead-letter topics (`topics`, or the defaults): how many
   * messages it holds, how many were replayed, below which offset all were (what Kafka's
   * delete-records may remove), and its oldest failure. Deletes nothing.
   */
  async purgeReport(selection: Pick<DeadLetterSelection, 'topics'> = {}): Promise<PurgeReport> {
    const { topics } = resolveSelection(
      selection.topics === undefined ? {} : { topics: selection.topics },
      this.defaultTopics(),
    );
    return this.reading(async (reader) => {
      const ledger = await ReplayLedger.read(reader);
      const tally = new PurgeTally();
      for (const topic of topics) {
        for await (const message of reader.read(topic)) {
          const entry = toDeadLetterEntry(message, this.sanitizer);
          const replayed = entry !== undefined && ledger.find(entry) !== undefined;
          tally.add(
            message,
            replayed,
            entry?.failedAt ?? new Date(Number(message.timestamp)).toISOString(),
          );
        }
      }
      return tally.report(topics);
    });
  }

  /** Publishes one chunk's replays, then records those that were sent. */
  private async send(chunk: readonly ReadDeadLetter[], report: ReplayReport): Promise<void> {
    const outcomes = await Promise.allSettled(
      chunk.map(({ entry, message }) =>
        this.bus.publish(entry.original.topic, replayMessage(message, entry.id)),
      ),
    );
    const sent = chunk.filter((_, index) => outcomes[index]?.status === 'fulfilled');
    report.sent.push(...sent.map(({ entry }) => sentOf(entry)));
    if (sent.length > 0) {
      const at = new Date();
      await this.bus
        .publishBatch(
          DEAD_LETTER_REPLAY_TOPIC,
          sent.map(({ entry }) => ledgerRecord(entry, report.runId, at)),
        )
        .catch((error: unknown) => {
          throw this.stopped(
            report,
            `the replay ledger did not record the last ${String(sent.length)} (a next run sends them again)`,
            error,
          );
        });
    }
    const failed = outcomes.findIndex(({ status }) => status === 'rejected');
    const outcome = outcomes[failed];
    const letter = chunk[failed];
    if (outcome?.status === 'rejected' && letter) {
      const { id, original } = letter.entry;
      throw this.stopped(report, `publishing ${id} to ${original.topic} failed`, outcome.reason);
    }
  }

  private stopped(report: ReplayReport, what: string, error: unknown): DeadLetterReplayError {
    return new DeadLetterReplayError(
      `Replay run ${report.runId} stopped after sending ${String(report.sent.length)}: ${what}: ${this.sanitizer.describeError(error)}`,
      report,
    );
  }

  /** The dead letters of the selected topics that the selection matches, as read. */
  private async *selected(
    reader: TopicReader,
    selection: ResolvedSelection,
  ): AsyncIterable<ReadDeadLetter> {
    for (const topic of selection.topics) {
      for await (const message of reader.read(topic)) {
        const entry = toDeadLetterEntry(message, this.sanitizer);
        if (entry && selection.matches(entry)) yield { entry, message };
      }
    }
  }

  private async reading<T>(work: (reader: TopicReader) => Promise<T>): Promise<T> {
    const reader = await this.bus.openReader();
    try {
      return await work(reader);
    } finally {
      await reader.close();
    }
  }

  /** The three dead-letter topics and the configured one. */
  private defaultTopics(): string[] {
    const configured = this.config.dispatch.deadLetter;
    return [
      ...Object.values(DEAD_LETTER_TOPICS),
      ...(typeof configured === 'object' ? [configured.topic] : []),
    ];
  }
}

function sentOf(entry: DeadLetterEntry): ReplayedEntry {
  const { topic, partition, offset } = entry.original;
  return { id: entry.id, to: topic, original: `${topic}/${String(partition)}/${offset}` };
}

/** Consecutive runs of `letters` within the chunk limits. */
function* chunks(letters: readonly ReadDeadLetter[]): Generator<ReadDeadLetter[]> {
  let chunk: ReadDeadLetter[] = [];
  let bytes = 0;
  for (const letter of letters) {
    const size = (letter.message.key?.length ?? 0) + (letter.message.value?.length ?? 0);
    if (chunk.length > 0 && (chunk.length >= CHUNK_MESSAGES || bytes + size > CHUNK_BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(letter);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** Orders entries by topic (as `topics` lists them), partition, then offset. */
function byPosition(topics: readonly string[]) {
  return (a: DeadLetterEntry, b: DeadLetterEntry): number =>
    topics.indexOf(a.topic) - topics.indexOf(b.topic) ||
    a.partition - b.partition ||
    a.offset.length - b.offset.length ||
    (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0);
}
