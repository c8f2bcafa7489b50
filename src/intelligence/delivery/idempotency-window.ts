/**
 * The keys seen recently, bounded in count and age: a redelivery of a message already
 * handled is recognised within the window and skipped.
 */
export class IdempotencyWindow {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly maxKeys = 10_000,
    private readonly ttlMs = 60 * 60 * 1000,
  ) {}

  has(key: string, now = Date.now()): boolean {
    const expires = this.seen.get(key);
    if (expires === undefined) return false;
    if (expires > now) return true;
    this.seen.delete(key);
    return false;
  }

  add(key: string, now = Date.now()): void {
    this.seen.delete(key);
    this.seen.set(key, now + this.ttlMs);
    if (this.seen.size > this.maxKeys) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
  }

  clear(): void {
    this.seen.clear();
  }
}
