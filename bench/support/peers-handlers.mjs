// The handler every consume contender calls, per regime, and the per-run bitmap check:
// every seq of the input counted exactly once, duplicates and strays counted apart.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What a peer's handler gets from a message value (string or bytes): the envelope's `payload`,
 * or the bare object itself. The module's handlers get the same as `event.payload`.
 */
export function decodePayload(kind, value) {
  const json = JSON.parse(typeof value === 'string' ? value : String(value));
  return kind === 'envelope' ? json.payload : json;
}

/** `payload.seq`, or NaN (the tracker counts it as out of range). */
export function seqOf(payload) {
  const seq = /** @type {{ seq?: unknown } | undefined} */ (payload)?.seq;
  return typeof seq === 'number' ? seq : Number.NaN;
}

const CPU_WORK_MS = 0.1;
const IO_WAIT_MS = 1;

/** Spins the CPU for `ms` (a handler that computes). */
function busy(ms) {
  const until = performance.now() + ms;
  let spins = 0;
  while (performance.now() < until) spins += 1;
  return spins;
}

/**
 * Counts deliveries per seq 0..count-1 in a byte per seq (saturating at 255): the first of
 * each seq is `distinct`, each later one a duplicate; a payload without a seq in range is a
 * stray. Notes the first handler call and the moment the last distinct seq came.
 */
export function createRunTracker(count) {
  const seen = new Uint8Array(count);
  /** @type {(value?: unknown) => void} */
  let resolveDone = () => {};
  const tracker = {
    count,
    distinct: 0,
    duplicates: 0,
    strays: 0,
    /** performance.now() of the first handler call, of the last distinct seq, of the last call */
    first: 0,
    last: 0,
    lastCall: 0,
    done: new Promise((resolve) => {
      resolveDone = resolve;
    }),
    started() {
      const now = performance.now();
      if (tracker.first === 0) tracker.first = now;
      tracker.lastCall = now;
    },
    see(seq) {
      const now = performance.now();
      tracker.lastCall = now;
      if (!Number.isInteger(seq) || seq < 0 || seq >= count) {
        tracker.strays += 1;
        return;
      }
      const before = seen[seq];
      if (before < 255) seen[seq] = before + 1;
      if (before !== 0) {
        tracker.duplicates += 1;
        return;
      }
      tracker.distinct += 1;
      tracker.last = now;
      if (tracker.distinct === count) resolveDone();
    },
    /** The first `limit` seqs never seen. */
    missing(limit = 10) {
      const missing = [];
      for (let seq = 0; seq < count && missing.length < limit; seq++) {
        if (seen[seq] === 0) missing.push(seq);
      }
      return missing;
    },
  };
  return tracker;
}

/**
 * The regime's handler: `(payload) => Promise<void>`, the same function for every contender.
 * It does its work, then reports the payload's seq to the tracker.
 * @param {'none' | 'cpu' | 'io'} work
 * @param {ReturnType<typeof createRunTracker>} tracker
 */
export function createHandler(work, tracker) {
  if (work === 'none') {
    return async (payload) => {
      tracker.started();
      tracker.see(seqOf(payload));
    };
  }
  if (work === 'cpu') {
    return async (payload) => {
      tracker.started();
      busy(CPU_WORK_MS);
      tracker.see(seqOf(payload));
    };
  }
  return async (payload) => {
    tracker.started();
    await sleep(IO_WAIT_MS);
    tracker.see(seqOf(payload));
  };
}

export const HANDLER_WORK = {
  none: 'async, returns at once',
  cpu: `async, spins the CPU ${CPU_WORK_MS * 1000} µs`,
  io: `async, awaits setTimeout(${IO_WAIT_MS} ms)`,
};
