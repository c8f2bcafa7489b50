import type { ProduceHealth } from './bus-message.interface.js';

/** A publish waiting longer than this for its acknowledgement counts as stalled. */
export const PRODUCE_STALL_MS = 1_000;

interface InFlight {
  topic: string;
  startedAt: number;
}

/** A publish that took longer than the threshold, as `ProduceStalls.end` reports it. */
export interface EndedStall {
  topic: string;
  startedAt: number;
  endedAt: number;
}

/**
 * The bus's publishes in flight and those that stalled: with acks=all a produce request waits
 * for every in-sync replica, so a dying leader or a shrinking ISR shows first as publishes that
 * take seconds. Clock in milliseconds, given by the caller.
 */
export class ProduceStalls {
  private readonly inFlight = new Map<number, InFlight>();
  private nextId = 0;
  private stalls = 0;
  private lastStall: ProduceHealth['lastStall'];

  constructor(private readonly stallMs = PRODUCE_STALL_MS) {}

  /** A publish to `topic` was sent; the id goes to `end`. */
  begin(topic: string, at: number): number {
    const id = this.nextId++;
    this.inFlight.set(id, { topic, startedAt: at });
    return id;
  }

  /** The publish ended (`error`: sanitized, when it failed); the stall it was, if one. */
  end(id: number, at: number, error?: string): EndedStall | undefined {
    const publish = this.inFlight.get(id);
    if (!publish) return undefined;
    this.inFlight.delete(id);
    const tookMs = at - publish.startedAt;
    if (tookMs < this.stallMs) return undefined;
    this.stalls += 1;
    this.lastStall = {
      topic: publish.topic,
      at: new Date(at).toISOString(),
      tookMs,
      ...(error === undefined ? {} : { error }),
    };
    return { topic: publish.topic, startedAt: publish.startedAt, endedAt: at };
  }

  /** Topics with a publish waiting longer than the threshold at `at`, and the oldest start. */
  stalled(at: number): { topics: string[]; since: number } | undefined {
    const waiting = [...this.inFlight.values()].filter(
      ({ startedAt }) => at - startedAt >= this.stallMs,
    );
    if (waiting.length === 0) return undefined;
    return {
      topics: [...new Set(waiting.map(({ topic }) => topic))].sort(),
      since: Math.min(...waiting.map(({ startedAt }) => startedAt)),
    };
  }

  health(at: number): ProduceHealth {
    const stalled = this.stalled(at);
    return {
      stalled: stalled !== undefined,
      ...(stalled ? { stalledSince: new Date(stalled.since).toISOString() } : {}),
      inFlight: this.inFlight.size,
      stalls: this.stalls,
      ...(this.lastStall ? { lastStall: { ...this.lastStall } } : {}),
    };
  }
}
