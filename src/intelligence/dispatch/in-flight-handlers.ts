import type { HandlerDefinition } from './handler-definition.interface.js';

/** Counts the handlers running now, by handler; tells when none runs. */
export class InFlightHandlers {
  private readonly counts = new Map<HandlerDefinition, number>();
  private total = 0;
  private waiters: (() => void)[] = [];

  enter(handler: HandlerDefinition): void {
    this.counts.set(handler, (this.counts.get(handler) ?? 0) + 1);
    this.total += 1;
  }

  leave(handler: HandlerDefinition): void {
    const count = (this.counts.get(handler) ?? 1) - 1;
    if (count === 0) this.counts.delete(handler);
    else this.counts.set(handler, count);
    this.total -= 1;
    if (this.total === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  ofNode(node: string): number {
    let count = 0;
    for (const [handler, running] of this.counts) if (handler.node === node) count += running;
    return count;
  }

  names(): string[] {
    return [...this.counts].flatMap(([handler, running]) =>
      Array.from({ length: running }, () => handler.name),
    );
  }

  /** Resolves `true` once nothing runs, or `false` after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.total === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== wake);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(wake);
    });
  }
}
