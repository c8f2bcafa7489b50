/** A dead letter a replay run published (on a dry run: would publish). */
export interface ReplayedEntry {
  /** The dead letter, `<topic>/<partition>/<offset>`. */
  id: string;
  /** The original topic it went back to. */
  to: string;
  /** Where it originally failed, `<topic>/<partition>/<offset>`. */
  original: string;
}

/** A selected dead letter a replay run left alone, and why. */
export interface SkippedEntry {
  id: string;
  /** `already-replayed`: the replay ledger records an earlier run that sent it. */
  reason: 'already-replayed';
  /** When, and by which run, it was replayed. */
  replayedAt: string;
  runId: string;
}

/** What a replay run did. */
export interface ReplayReport {
  /** The id the run recorded its replays under in the ledger. */
  runId: string;
  dryRun: boolean;
  /** The dead letters sent (on a dry run: that would be), in the order sent. */
  sent: ReplayedEntry[];
  skipped: SkippedEntry[];
}

/** A replay run that stopped on a failed publish; `report` says what it had sent until then. */
export class DeadLetterReplayError extends Error {
  override name = 'DeadLetterReplayError';
  constructor(
    message: string,
    readonly report: ReplayReport,
  ) {
    super(message);
  }
}
