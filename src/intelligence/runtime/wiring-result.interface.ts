import type { BusFailure } from '../bus/bus-failure.js';

/** The result of one `wire()` attempt. Its error is sanitized. */
export interface WiringResult {
  ok: boolean;
  status: 'wired' | 'failed';
  correlationId: string;
  durationMs: number;
  /** When it finished (ISO-8601 UTC). */
  at: string;
  /** Sanitized `Name: message` of what failed. */
  error?: string;
  /** Permanent (a configuration change is needed) or transient, when the bus could tell. */
  failure?: BusFailure;
  /** Handlers routed and topics consumed, when wired. */
  handlers?: number;
  topics?: string[];
}

/** `onModuleInit` with `wiring.failFast`: wiring failed (cleanup already ran). */
export class IntelligenceWiringError extends Error {
  override readonly name = 'IntelligenceWiringError';
  constructor(readonly result: WiringResult) {
    super(`Intelligence wiring failed: ${result.error ?? 'unknown error'}`);
  }
}
