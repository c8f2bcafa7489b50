import type { BusMessage, OutgoingMessage } from '../bus/bus-message.interface.js';

/** Headers a retry-tier message carries besides the original ones. */
export const RETRY_HEADERS = {
  group: 'retry_group',
  attempt: 'retry_attempt',
  tier: 'retry_tier',
  dueAt: 'retry_due_at',
  handlers: 'retry_handlers',
  originalTopic: 'retry_original_topic',
  originalPartition: 'retry_original_partition',
  originalOffset: 'retry_original_offset',
  originalTimestamp: 'retry_original_timestamp',
  history: 'retry_history',
} as const;

const RETRY_HEADER_NAMES: ReadonlySet<string> = new Set(Object.values(RETRY_HEADERS));

/** Longest failure reason kept per history entry (the headers of a message are bounded). */
const MAX_REASON_CHARS = 300;

/** Where a retried message was first consumed. */
export interface RetryOrigin {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
}

/** One failed attempt of a retried message. */
export interface RetryHistoryEntry {
  attempt: number;
  /** The topic the attempt ran from: the original one, or a tier's. */
  topic: string;
  failureClass: string;
  /** Already sanitized. */
  reason: string;
  at: string;
}

/** What a retry-tier message says about itself. */
export interface RetryState {
  group: string;
  origin: RetryOrigin;
  /** Attempts made before this one. */
  attempt: number;
  /** This tier's number, from 1. */
  tier: number;
  /** Epoch ms from which it may run. */
  dueAt: number;
  /** The handlers to run again; the others already handled it. */
  handlers: readonly string[];
  history: readonly RetryHistoryEntry[];
}

/**
 * The tier topic of a group's retries with `delayMs`: `onex.cmd.<group>.retry-<delay>ms.v1`,
 * the group in lowercase with anything but letters, digits and dashes made a dash. Of the
 * platform's form: a tier message is a command to the group's retry consumers (run these
 * handlers again when due), whatever the original's kind. One topic per delay, so the due
 * times of each partition only grow and a partition waits only for its head.
 */
export function retryTierTopic(groupId: string, delayMs: number): string {
  const slug =
    groupId
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'group';
  return `onex.cmd.${slug}.retry-${String(delayMs)}ms.v1`;
}

/** The consumer group of a group's retry consumers (apart: its members subscribe to other topics). */
export function retryGroupId(groupId: string): string {
  return `${groupId}.retry`;
}

/** Whether `name` is a header this module sets on retry-tier messages. */
export function isRetryHeader(name: string): boolean {
  return RETRY_HEADER_NAMES.has(name);
}

/** A history entry, its reason cut to a bounded length. */
export function historyEntry(entry: RetryHistoryEntry): RetryHistoryEntry {
  return entry.reason.length <= MAX_REASON_CHARS
    ? entry
    : { ...entry, reason: `${entry.reason.slice(0, MAX_REASON_CHARS)}…` };
}

/** The origin of a message consumed from its own topic. */
export function originOf(message: BusMessage): RetryOrigin {
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    timestamp: message.timestamp,
  };
}

/**
 * The tier message of `message` for `state`: its key and bytes untouched, its headers with
 * earlier retry headers replaced by the new ones.
 */
export function toRetryTier(message: BusMessage, state: RetryState): OutgoingMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (!isRetryHeader(name)) headers[name] = value;
  }
  Object.assign(headers, {
    [RETRY_HEADERS.group]: state.group,
    [RETRY_HEADERS.attempt]: String(state.attempt),
    [RETRY_HEADERS.tier]: String(state.tier),
    [RETRY_HEADERS.dueAt]: String(state.dueAt),
    [RETRY_HEADERS.handlers]: JSON.stringify(state.handlers),
    [RETRY_HEADERS.originalTopic]: state.origin.topic,
    [RETRY_HEADERS.originalPartition]: String(state.origin.partition),
    [RETRY_HEADERS.originalOffset]: state.origin.offset,
    [RETRY_HEADERS.originalTimestamp]: state.origin.timestamp,
    [RETRY_HEADERS.history]: JSON.stringify(state.history),
  });
  return { key: message.key, value: message.value, headers };
}

/** The retry state of a tier message, or what is wrong with its headers. */
export function readRetryState(message: BusMessage): RetryState | { invalid: string } {
  const header = (name: string) => message.headers[name];
  const group = header(RETRY_HEADERS.group);
  const topic = header(RETRY_HEADERS.originalTopic);
  const offset = header(RETRY_HEADERS.originalOffset);
  const partition = wholeNumber(header(RETRY_HEADERS.originalPartition));
  const attempt = wholeNumber(header(RETRY_HEADERS.attempt));
  const tier = wholeNumber(header(RETRY_HEADERS.tier));
  const dueAt = wholeNumber(header(RETRY_HEADERS.dueAt));
  const handlers = stringArray(header(RETRY_HEADERS.handlers));
  const history = historyArray(header(RETRY_HEADERS.history));
  const missing = [
    group === undefined && RETRY_HEADERS.group,
    topic === undefined && RETRY_HEADERS.originalTopic,
    (offset === undefined || !/^\d+$/.test(offset)) && RETRY_HEADERS.originalOffset,
    partition === undefined && RETRY_HEADERS.originalPartition,
    (attempt === undefined || attempt < 1) && RETRY_HEADERS.attempt,
    (tier === undefined || tier < 1) && RETRY_HEADERS.tier,
    dueAt === undefined && RETRY_HEADERS.dueAt,
    handlers === undefined && RETRY_HEADERS.handlers,
    history === undefined && RETRY_HEADERS.history,
  ].filter((name) => typeof name === 'string');
  if (missing.length > 0) return { invalid: `missing or malformed headers: ${missing.join(', ')}` };
  return {
    group: group as string,
    origin: {
      topic: topic as string,
      partition: partition as number,
      offset: offset as string,
      timestamp: header(RETRY_HEADERS.originalTimestamp) ?? message.timestamp,
    },
    attempt: attempt as number,
    tier: tier as number,
    dueAt: dueAt as number,
    handlers: handlers as string[],
    history: history as RetryHistoryEntry[],
  };
}

function wholeNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

/** The parsed JSON of `text`, `undefined` when it is not JSON (the parser's text is not passed on). */
function parsed(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function stringArray(text: string | undefined): string[] | undefined {
  const value = parsed(text);
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
    ? value
    : undefined;
}

function historyArray(text: string | undefined): RetryHistoryEntry[] | undefined {
  const value = parsed(text);
  if (!Array.isArray(value)) return undefined;
  const entries = value as unknown[];
  return entries.every(isHistoryEntry) ? entries : undefined;
}

function isHistoryEntry(value: unknown): value is RetryHistoryEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.attempt === 'number' &&
    typeof entry.topic === 'string' &&
    typeof entry.failureClass === 'string' &&
    typeof entry.reason === 'string' &&
    typeof entry.at === 'string'
  );
}
