/** A handler ran past `dispatch.handlerTimeoutMs`: a transient failure, retried by the policy. */
export class HandlerTimeoutError extends Error {
  override readonly name = 'HandlerTimeoutError';
  constructor(handler: string, timeoutMs: number) {
    super(`${handler} did not finish within ${timeoutMs} ms`);
  }
}

/** A delivery cut off by the drain deadline: left unacknowledged, so it is redelivered. */
export class DeliveryAbandonedError extends Error {
  override readonly name = 'DeliveryAbandonedError';
  constructor() {
    super('Shutdown drain deadline reached; the message stays uncommitted');
  }
}

type GiveUp = (error: HandlerTimeoutError | DeliveryAbandonedError) => void;

/** A handler run under watch: a link of the watch's list, oldest first. */
export class Watched {
  prev: Watched | undefined;
  next: Watched | undefined;
  linked = true;

  constructor(
    readonly handler: string,
    readonly topic: string,
    readonly startedAt: number,
    /** Called once if the watch gives the run up (timeout or abandon) before it finished. */
    readonly giveUp: GiveUp,
  ) {}
}

/**
 * Watches the handlers running now: one that runs past the timeout is given up with a
 * `HandlerTimeoutError` (JavaScript cannot stop it; the caller aborts its `ctx.signal`), and at
 * the drain deadline `abandonAll` gives up every running one, and every one started after, with
 * a `DeliveryAbandonedError`. One coarse timer checks deadlines, so a handler costs no timer:
 * runs are kept in a list in start order (one timeout for all), entering and leaving it is a
 * few pointer writes, and a check stops at the first run that is not yet due.
 */
export class HandlerWatch {
  private head: Watched | undefined;
  private tail: Watched | undefined;
  private timer: NodeJS.Timeout | undefined;
  private abandoned = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: (handler: string, topic: string) => void,
  ) {}

  /** Starts the deadline checks (with a timeout set); `stop()` ends them. */
  start(): void {
    this.abandoned = false;
    if (this.timeoutMs <= 0 || this.timer) return;
    const period = Math.min(1_000, Math.max(10, Math.floor(this.timeoutMs / 4)));
    this.timer = setInterval(() => {
      this.expire();
    }, period);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Watches a run that started at `startedAt` (`performance.now()`); after `abandonAll`, gives it up at once. */
  enter(handler: string, topic: string, startedAt: number, giveUp: GiveUp): Watched | undefined {
    if (this.abandoned) {
      giveUp(new DeliveryAbandonedError());
      return undefined;
    }
    const watched = new Watched(handler, topic, startedAt, giveUp);
    watched.prev = this.tail;
    if (this.tail) this.tail.next = watched;
    else this.head = watched;
    this.tail = watched;
    return watched;
  }

  /** The run finished: `false` when the watch had given it up already (ignore its result). */
  leave(watched: Watched): boolean {
    if (!watched.linked) return false;
    watched.linked = false;
    const { prev, next } = watched;
    if (prev) prev.next = next;
    else this.head = next;
    if (next) next.prev = prev;
    else this.tail = prev;
    watched.prev = watched.next = undefined;
    return true;
  }

  /** Gives up every running handler and every one started until the next `start()`. */
  abandonAll(): void {
    this.abandoned = true;
    while (this.head) this.giveUp(this.head, new DeliveryAbandonedError());
  }

  private expire(): void {
    const oldest = performance.now() - this.timeoutMs;
    while (this.head && this.head.startedAt <= oldest) {
      const watched = this.head;
      this.onTimeout(watched.handler, watched.topic);
      this.giveUp(watched, new HandlerTimeoutError(watched.handler, this.timeoutMs));
    }
  }

  private giveUp(watched: Watched, error: HandlerTimeoutError | DeliveryAbandonedError): void {
    this.leave(watched);
    watched.giveUp(error);
  }
}
