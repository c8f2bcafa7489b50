/**
 * The delivery loop state of one consumer group's partition: whether it runs, and the
 * redelivery wait it may be in (cancelled when the subscription closes).
 */
export class InMemoryPump {
  running = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  /** Waits `ms`, or less if cancelled. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.wake?.();
      }, ms);
    });
  }

  /** Ends a redelivery wait at once, leaving no timer behind. */
  cancelSleep(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
  }
}
