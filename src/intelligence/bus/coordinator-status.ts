import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type { CoordinatorHealth } from './bus-message.interface.js';

/** What a member's group coordinator did: told by the bus adapter, read by `health()`. */
export interface CoordinatorEvents {
  /** Heartbeats or commits failed because the coordinator moved, died or is loading. */
  lost(error: unknown): void;
  /** The coordinator is on `nodeId` (at a join, or found again after a loss). */
  found(nodeId: number): void;
}

/** One member's coordinator health: the node, whether it is lost, the failovers so far. */
export class CoordinatorStatus implements CoordinatorEvents {
  private nodeId: number | undefined;
  private lostAt: number | undefined;
  private lastError: string | undefined;
  private failovers = 0;
  private lastFailover: CoordinatorHealth['lastFailover'];

  constructor(private readonly sanitizer: LogSanitizer) {}

  lost(error: unknown): void {
    this.lostAt ??= Date.now();
    this.lastError = this.sanitizer.describeError(error);
  }

  found(nodeId: number): void {
    if (this.lostAt !== undefined) {
      const at = Date.now();
      this.failovers += 1;
      this.lastFailover = {
        ...(this.nodeId === undefined ? {} : { from: this.nodeId }),
        to: nodeId,
        at: new Date(at).toISOString(),
        tookMs: at - this.lostAt,
      };
      this.lostAt = undefined;
      this.lastError = undefined;
    }
    this.nodeId = nodeId;
  }

  /** Undefined until the member has joined once or lost its coordinator. */
  health(): CoordinatorHealth | undefined {
    if (this.nodeId === undefined && this.lostAt === undefined) return undefined;
    const lost = this.lostAt !== undefined;
    return {
      ...(this.nodeId === undefined ? {} : { nodeId: this.nodeId }),
      state: lost ? 'lost' : 'found',
      ...(lost ? { lostSince: new Date(this.lostAt as number).toISOString() } : {}),
      ...(lost && this.lastError !== undefined ? { lastError: this.lastError } : {}),
      failovers: this.failovers,
      ...(this.lastFailover ? { lastFailover: { ...this.lastFailover } } : {}),
    };
  }
}
