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

interface Watched {
  readonly handler: string;
  readonly topic: string;
  readonly startedAt: number;
  readonly reject: (error: Error) => void;
  readonly abort: (reason: Error) => void;
}

/**
 * Watches the handlers running now: one that runs past the timeout is given up with a
 * `HandlerTimeoutError` (its `ctx.signal` is aborted; JavaScript cannot stop it), and at the
 * drain deadline `abandonAll` gives up every running one, and every one started after, with a
 * `DeliveryAbandonedError`. One coarse timer checks deadlines, so a handler costs no timer.
 */
export class HandlerWatch {
  private readonly running = new Set<Watched>();
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

  /** `work`, unless it times out or is abandoned first. */
  watch<T>(
    work: PromiseLike<T>,
    handler: string,
    topic: string,
    abort: (reason: Error) => void,
  ): Promise<T> {
    if (this.abandoned) {
      abort(new DeliveryAbandonedError());
      return Promise.reject(new DeliveryAbandonedError());
    }
    return new Promise<T>((resolve, reject) => {
      const watched: Watched = { handler, topic, startedAt: performance.now(), reject, abort };
      this.running.add(watched);
      work.then(
        (value) => {
          this.running.delete(watched);
          resolve(value);
        },
        (error: unknown) => {
          this.running.delete(watched);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the handler's rejection, passed on as it is
          reject(error);
        },
      );
    });
  }

  /** Gives up every running handler and every one started until the next `start()`. */
  abandonAll(): void {
    this.abandoned = true;
    for (const watched of this.running) this.giveUp(watched, new DeliveryAbandonedError());
  }

  private expire(): void {
    const oldest = performance.now() - this.timeoutMs;
    for (const watched of this.running) {
      if (watched.startedAt > oldest) continue;
      this.onTimeout(watched.handler, watched.topic);
      this.giveUp(watched, new HandlerTimeoutError(watched.handler, this.timeoutMs));
    }
  }

  private giveUp(watched: Watched, error: Error): void {
    this.running.delete(watched);
    watched.abort(error);
    watched.reject(error);
  }
}
