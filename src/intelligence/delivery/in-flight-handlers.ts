/** What the count needs of a handler. */
export interface RunningHandler {
  readonly name: string;
  readonly node: string;
}

/** Counts the handlers running now, by handler. */
export class InFlightHandlers {
  private readonly counts = new Map<RunningHandler, number>();

  enter(handler: RunningHandler): void {
    this.counts.set(handler, (this.counts.get(handler) ?? 0) + 1);
  }

  leave(handler: RunningHandler): void {
    const count = (this.counts.get(handler) ?? 1) - 1;
    if (count === 0) this.counts.delete(handler);
    else this.counts.set(handler, count);
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
}
