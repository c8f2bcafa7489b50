import type { Consumer } from '@platformatic/kafka';
import { platformaticErrorTree } from './platformatic-failure-classifier.js';
import type { GroupRequests } from './platformatic-group-requests.js';
import { backoffDelay, type BackoffRange } from './redelivery-backoff.js';

/** Backoff of a rejoin that failed (the broker away, say). */
const REJOIN: BackoffRange = { initialMs: 500, maxMs: 5_000 };
/** Heartbeats while the coordinator is lost: often, so a new one is found soon after the election. */
const LOST_BEAT_MS = 500;

export interface KeeperEvents {
  /** The membership could not be kept or regained (yet); it is retried. */
  lost(error: unknown): void;
  /** Heartbeats of the kept membership pass again. */
  kept(): void;
  /**
   * The member must join again but the client still points at a coordinator that moved: only
   * a new consumer (under the same member id) can join now. Resolves once it is replaced.
   */
  replace(): Promise<void>;
}

/** Whether a group error means the member must join again (its generation or id is gone). */
export function needsRejoin(error: unknown): boolean {
  return platformaticErrorTree(error).some(
    (e) => (e as { needsRejoin?: unknown }).needsRejoin === true,
  );
}

/**
 * Keeps a consumer's group membership after @platformatic/kafka 1.x stopped doing so itself.
 *
 * - A heartbeat that fails for any reason but a rebalance (the broker unreachable, a timeout)
 *   ends the client's heartbeat loop for good: `Consumer#heartbeat` cancels its timer and then
 *   `refresh()`es the cleared one (node_modules/@platformatic/kafka/dist/clients/consumer/
 *   consumer.js, `#heartbeat`). From then on this keeper heartbeats in its place, so a broker
 *   blip costs no rebalance; once the broker says the generation or member is gone, it rejoins.
 * - A rejoin the client gave up on (its `error` event) is retried with backoff.
 *
 * - The coordinator died or moved: the heartbeats go to the new one (`GroupRequests` finds it),
 *   every 500 ms until it answers, so the membership outlives the failover with no rebalance.
 *   A rejoin then needs a new consumer (`events.replace`): the client would send it to the
 *   coordinator it found first.
 *
 * A successful join (the client's heartbeats run again) stops it: call `joined()`.
 */
export class MembershipKeeper {
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  private rejoinTimer: NodeJS.Timeout | undefined;
  private rejoining = false;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly consumer: Consumer,
    private readonly requests: GroupRequests,
    private readonly heartbeatIntervalMs: number,
    private readonly events: KeeperEvents,
  ) {}

  /** Whether the membership is in doubt now (heartbeats taken over, or a rejoin pending). */
  get active(): boolean {
    return this.timer !== undefined || this.rejoinTimer !== undefined || this.rejoining;
  }

  /** The client's heartbeat loop stopped on `error`: heartbeat in its place. */
  heartbeatStopped(error: unknown): void {
    if (this.stopped) return;
    if (needsRejoin(error)) {
      this.rejoinSoon(0);
      return;
    }
    this.events.lost(error);
    if (this.timer) return;
    this.beatIn(LOST_BEAT_MS);
  }

  /**
   * A commit or heartbeat of the adapter's found the coordinator gone: heartbeat to the new
   * one from now on, without waiting for the client's own heartbeats to give up on the old.
   */
  coordinatorLost(): void {
    if (this.stopped || this.timer || this.rejoinTimer || this.rejoining) return;
    this.beatIn(LOST_BEAT_MS);
  }

  /** The client gave up a rejoin (`error` event): try again with backoff. */
  rejoinFailed(error: unknown): void {
    if (this.stopped) return;
    this.events.lost(error);
    this.failures += 1;
    this.rejoinSoon(backoffDelay(this.failures, REJOIN));
  }

  /** The consumer joined: its own heartbeats run again. */
  joined(): void {
    this.stopBeating();
    clearTimeout(this.rejoinTimer);
    this.rejoinTimer = undefined;
    this.failures = 0;
  }

  stop(): void {
    this.stopped = true;
    this.joined();
  }

  /** Follows the client's failed heartbeats and rejoins; returns a function that stops it. */
  watch(): () => void {
    const onHeartbeatError = ({ error }: { error: Error }) => {
      this.heartbeatStopped(error);
    };
    const onError = (error: Error) => {
      this.rejoinFailed(error);
    };
    this.consumer.on('consumer:heartbeat:error', onHeartbeatError);
    this.consumer.on('error', onError);
    return () => {
      this.consumer.off('consumer:heartbeat:error', onHeartbeatError);
      this.consumer.off('error', onError);
    };
  }

  private beatIn(delayMs: number): void {
    this.timer = setTimeout(() => {
      void this.beat();
    }, delayMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    if (this.beating || this.stopped) return;
    this.beating = true;
    let rejoin = false;
    try {
      await this.requests.heartbeat();
      this.events.kept();
    } catch (error) {
      if (this.halted) return;
      rejoin = needsRejoin(error) || this.consumer.memberId === null;
      if (!rejoin) this.events.lost(error);
    } finally {
      this.beating = false;
    }
    if (this.halted || this.timer === undefined) return;
    if (rejoin) {
      this.stopBeating();
      this.rejoinSoon(0);
      return;
    }
    this.beatIn(this.requests.coordinatorLost ? LOST_BEAT_MS : this.heartbeatIntervalMs);
  }

  /** Read through a getter: `stop()` may have run while a heartbeat was awaited. */
  private get halted(): boolean {
    return this.stopped;
  }

  private stopBeating(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private rejoinSoon(delayMs: number): void {
    if (this.stopped || this.rejoinTimer || this.rejoining) return;
    this.stopBeating();
    this.rejoinTimer = setTimeout(() => {
      this.rejoinTimer = undefined;
      void this.rejoin();
    }, delayMs);
  }

  /** Joins again (through the subscription's before-join drain); backs off while it fails. */
  private async rejoin(): Promise<void> {
    this.rejoining = true;
    let failure: unknown;
    try {
      if (this.requests.clientStale) await this.events.replace();
      else await this.consumer.joinGroup({});
    } catch (error) {
      failure = error;
    }
    this.rejoining = false;
    if (failure === undefined || this.stopped) return;
    this.events.lost(failure);
    this.failures += 1;
    this.rejoinSoon(backoffDelay(this.failures, REJOIN));
  }
}
