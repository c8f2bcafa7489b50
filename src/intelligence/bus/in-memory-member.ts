import type { BusMessage } from './bus-message.interface.js';
import { runKeyed } from './keyed-runner.js';
import type { BackoffRange } from './redelivery-backoff.js';

/** One subscription of the embedded bus: a member of a consumer group. */
export interface InMemoryMember {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly handler: (message: BusMessage) => Promise<void>;
  readonly redelivery: BackoffRange;
  readonly concurrency: number;
  closed: boolean;
  /** Deliveries running now; closing waits for them. */
  readonly inFlight: Set<Promise<void>>;
  lastError?: string;
}

export interface DeliveryResult {
  /** Leading messages acknowledged. */
  handled: number;
  /** What the first unacknowledged message's handler threw. */
  error?: unknown;
}

/** Delivers one message; acknowledged when the handler resolves. */
export async function deliverOne(
  member: InMemoryMember,
  message: BusMessage,
): Promise<DeliveryResult> {
  let error: unknown;
  const run = invoke(member.handler, message).then(
    () => undefined,
    (thrown: unknown) => {
      error = thrown ?? new Error('handler rejected');
      member.lastError = errorName(thrown);
    },
  );
  member.inFlight.add(run);
  await run;
  member.inFlight.delete(run);
  return error === undefined ? { handled: 1 } : { handled: 0, error };
}

/** Delivers a window of messages with per-key concurrency; counts the acknowledged prefix. */
export async function deliverKeyed(
  member: InMemoryMember,
  messages: BusMessage[],
): Promise<DeliveryResult> {
  const running = runKeyed(messages, member.concurrency, member.handler, () => !member.closed);
  const tracked = running.then(() => undefined);
  member.inFlight.add(tracked);
  const result = await running;
  member.inFlight.delete(tracked);
  if (result.error !== undefined) member.lastError = errorName(result.error);
  return result;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

/** Calls a handler so that a synchronous throw becomes a rejection too. */
async function invoke(handler: InMemoryMember['handler'], message: BusMessage): Promise<void> {
  return handler(message);
}
