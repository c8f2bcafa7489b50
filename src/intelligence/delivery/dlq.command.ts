import { parseArgs, types } from 'node:util';
import { createEventBus } from '../bus/create-event-bus.js';
import type { EventBus } from '../bus/event-bus.js';
import { resolveIntelligenceConfig } from '../intelligence.config.js';
import { DEAD_LETTER_TOPICS } from '../intelligence.constants.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import type { DeadLetterEntry } from './dead-letter-entry.js';
import { DeadLetterReplayer } from './dead-letter-replayer.js';
import {
  DeadLetterSelectionError,
  resolveSelection,
  type DeadLetterSelection,
} from './dead-letter-selection.js';
import { DlqEnvironmentError, kafkaBusFromEnvironment } from './dlq-environment.js';
import { formatEntries, formatPurge, formatReplay } from './dlq-output.js';
import { DeadLetterReplayError } from './replay-report.js';

export interface DlqCommandIo {
  env: Readonly<Record<string, string | undefined>>;
  args: readonly string[];
  out: (line: string) => void;
  err: (line: string) => void;
  /** A bus to work on instead of the one the environment names; left connected. */
  bus?: EventBus;
}

const USAGE = `usage: intelligence-dlq <list | replay | purge-report> [options]
  (connects with KAFKA_BROKERS, KAFKA_CLIENT, KAFKA_CLIENT_ID, KAFKA_SSL*, KAFKA_SASL_*)
  --topic T                       dead-letter topic to read; repeatable
                                  (default: ${Object.values(DEAD_LETTER_TOPICS).join(', ')})
  --original-topic T              only dead letters of messages from this topic
  --from-offset N --to-offset N   only these original offsets, inclusive (needs --original-topic)
  --failure-class C               only this failure class (or the part before its ':')
  --since ISO --until ISO         only dead letters that failed in this time range
  --group G                       only dead letters of this consumer group
  --payloads                      list: show keys and values (sanitized)
  --dry-run                       replay: report what would be sent, send nothing
  --json                          JSON instead of tables
purge-report takes --topic and --json only.`;

const COMMANDS = ['list', 'replay', 'purge-report'] as const;
type Command = (typeof COMMANDS)[number];

/** The flag of each selection field, for messages. */
const FLAGS: Record<keyof DeadLetterSelection, string> = {
  topics: '--topic',
  originalTopic: '--original-topic',
  fromOffset: '--from-offset',
  toOffset: '--to-offset',
  failureClass: '--failure-class',
  since: '--since',
  until: '--until',
  consumerGroup: '--group',
};

interface Invocation {
  command: Command;
  selection: DeadLetterSelection;
  payloads: boolean;
  dryRun: boolean;
  json: boolean;
}

/** Bad arguments: printed with the usage, exit code 2. */
class UsageError extends Error {}

/**
 * `intelligence-dlq list | replay | purge-report [options]` (`npm run dlq -- ...`): lists dead
 * letters with their provenance, replays a selection to the original topics (a second identical
 * replay sends nothing), or reports per partition what was replayed and may be deleted. Tables,
 * or JSON with `--json`; payloads only with `--payloads`, sanitized. Resolves to the exit code:
 * 0 done, 2 bad arguments or environment, 1 failed (the error sanitized).
 */
export async function runDlqCommand(io: DlqCommandIo): Promise<number> {
  let invocation: Invocation;
  try {
    const parsed = parseInvocation(io.args);
    if (parsed === 'help') {
      io.out(USAGE);
      return 0;
    }
    invocation = parsed;
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  let bus = io.bus;
  let serviceName = 'omniintelligence';
  if (!bus) {
    try {
      const options = kafkaBusFromEnvironment(io.env);
      serviceName = io.env.SERVICE_NAME || serviceName;
      bus = createEventBus(
        resolveIntelligenceConfig({ serviceName, bus: options }),
        new LogSanitizer(),
      );
    } catch (error) {
      if (error instanceof DlqEnvironmentError) {
        io.err(`${error.message}\n${USAGE}`);
        return 2;
      }
      io.err(`intelligence-dlq: ${new LogSanitizer().describeError(error)}`);
      return 1;
    }
  }
  return run(invocation, bus, io.bus === undefined, io);
}

async function run(invocation: Invocation, bus: EventBus, owned: boolean, io: DlqCommandIo) {
  const sanitizer = new LogSanitizer();
  const replayer = new DeadLetterReplayer(bus, { dispatch: { deadLetter: true } }, sanitizer);
  const print = (value: unknown, lines: string[]) => {
    if (invocation.json) io.out(JSON.stringify(value, null, 2));
    else for (const line of lines) io.out(line);
  };
  try {
    await bus.connect();
    switch (invocation.command) {
      case 'list': {
        const entries = await replayer.list({
          ...invocation.selection,
          includePayload: invocation.payloads,
        });
        const shown = entries.map((entry) => sanitizedPayload(entry, sanitizer));
        print(shown, formatEntries(shown));
        break;
      }
      case 'replay': {
        const report = await replayer.replay(invocation.selection, { dryRun: invocation.dryRun });
        print(report, formatReplay(report));
        break;
      }
      case 'purge-report': {
        const report = await replayer.purgeReport(invocation.selection);
        print(report, formatPurge(report));
        break;
      }
    }
    return 0;
  } catch (error) {
    if (error instanceof DeadLetterReplayError) print(error.report, formatReplay(error.report));
    io.err(`intelligence-dlq ${invocation.command} failed: ${sanitizer.describeError(error)}`);
    return 1;
  } finally {
    if (owned) await bus.disconnect();
  }
}

function parseInvocation(args: readonly string[]): Invocation | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        topic: { type: 'string', multiple: true },
        'original-topic': { type: 'string' },
        'from-offset': { type: 'string' },
        'to-offset': { type: 'string' },
        'failure-class': { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        group: { type: 'string' },
        payloads: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // parseArgs names the option and what is wrong with it (its errors may be of another realm).
    throw new UsageError(types.isNativeError(error) ? error.message : 'invalid arguments');
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [command, ...extra] = positionals;
  const known = COMMANDS.find((name) => name === command);
  if (!known || extra.length > 0) {
    throw new UsageError(`expected one command: ${COMMANDS.join(', ')}`);
  }
  const selection: DeadLetterSelection = {
    ...(values.topic ? { topics: values.topic } : {}),
    ...(values['original-topic'] === undefined ? {} : { originalTopic: values['original-topic'] }),
    ...(values['from-offset'] === undefined ? {} : { fromOffset: values['from-offset'] }),
    ...(values['to-offset'] === undefined ? {} : { toOffset: values['to-offset'] }),
    ...(values['failure-class'] === undefined ? {} : { failureClass: values['failure-class'] }),
    ...(values.since === undefined ? {} : { since: values.since }),
    ...(values.until === undefined ? {} : { until: values.until }),
    ...(values.group === undefined ? {} : { consumerGroup: values.group }),
  };
  const invocation: Invocation = {
    command: known,
    selection,
    payloads: values.payloads ?? false,
    dryRun: values['dry-run'] ?? false,
    json: values.json ?? false,
  };
  checkApplicable(invocation);
  try {
    resolveSelection(selection, Object.values(DEAD_LETTER_TOPICS));
  } catch (error) {
    if (!(error instanceof DeadLetterSelectionError)) throw error;
    throw new UsageError(`${FLAGS[error.field]} ${error.problem}`);
  }
  return invocation;
}

/** Flags that mean nothing for the command are refused, not ignored. */
function checkApplicable({ command, selection, payloads, dryRun }: Invocation): void {
  if (payloads && command !== 'list') throw new UsageError('--payloads is for list only');
  if (dryRun && command !== 'replay') throw new UsageError('--dry-run is for replay only');
  if (command !== 'purge-report') return;
  const filter = (Object.keys(selection) as (keyof DeadLetterSelection)[]).find(
    (field) => field !== 'topics',
  );
  if (filter)
    throw new UsageError(`${FLAGS[filter]} is not for purge-report (it counts everything)`);
}

/** `entry` with its payload (if any) passed through the sanitizer, for printing. */
function sanitizedPayload(entry: DeadLetterEntry, sanitizer: LogSanitizer): DeadLetterEntry {
  if (!entry.payload) return entry;
  const { key, value } = entry.payload;
  return {
    ...entry,
    payload: {
      key: key && { encoding: key.encoding, data: sanitizer.sanitize(key.data) },
      value: value && { encoding: value.encoding, data: sanitizer.sanitize(value.data) },
    },
  };
}
