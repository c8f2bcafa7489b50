import type { BusMessage, MessageHandler } from './bus-message.interface.js';

export interface KeyedRunResult {
  /** Leading messages that were all handled: offsets below them may be committed. */
  handled: number;
  /** The first failure, if any; its message and everything after it must be redelivered. */
  error?: unknown;
}

/**
 * Handles a partition's messages with up to `concurrency` at once while messages with the
 * same key stay in order (messages without a key are independent). After a failure no new
 * message starts; the result tells how many leading messages were all handled, so commits
 * never pass the lowest unfinished offset.
 */
export async function runKeyed(
  messages: readonly BusMessage[],
  concurrency: number,
  handler: MessageHandler,
  keepGoing: () => boolean = () => true,
): Promise<KeyedRunResult> {
  const done = new Array<boolean>(messages.length).fill(false);
  const tails = new Map<string, Promise<void>>();
  const active = new Set<Promise<void>>();
  let failure: { index: number; error: unknown } | undefined;
  // Read through a function: handler callbacks set `failure` while the loop awaits.
  const failed = () => failure !== undefined;

  for (let index = 0; index < messages.length && !failed() && keepGoing(); index++) {
    const message = messages[index];
    if (!message) break;
    while (active.size >= concurrency) await Promise.race(active);
    if (failed() || !keepGoing()) break;
    const key = message.key ? message.key.toString('latin1') : undefined;
    const previous = key === undefined ? undefined : tails.get(key);
    const run = (previous ?? Promise.resolve())
      .then(() => {
        if (failed()) throw new Error('skipped after an earlier failure');
        return handler(message);
      })
      .then(
        () => {
          done[index] = true;
        },
        (error: unknown) => {
          if (!failure || index < failure.index) failure = { index, error };
        },
      );
    const tracked = run.finally(() => active.delete(tracked));
    active.add(tracked);
    if (key !== undefined) tails.set(key, run);
  }
  await Promise.all(active);
  const firstUnhandled = done.indexOf(false);
  const handled = firstUnhandled < 0 ? messages.length : firstUnhandled;
  return failure
    ? { handled: Math.min(handled, failure.index), error: failure.error }
    : { handled };
}
