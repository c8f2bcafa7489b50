import type { DatabaseTransaction } from '../database/database-transaction.js';
import { IdempotencyStore, type IdempotencyScope } from './idempotency-store.js';

export interface InMemoryIdempotencyOptions {
  /**
   * Keys remembered per scope (consumer group and handler), at least: the last `maxKeys`
   * recorded are always known; at most twice as many are held. @default 10000
   */
  maxKeys?: number;
  /** A key is forgotten this long after it was recorded. @default 3600000 (1 hour) */
  ttlMs?: number;
}

/**
 * The keys of one scope, bounded in count and age, as the original `IdempotencyWindow` is;
 * held in two generations of `maxKeys` (the older one dropped whole when the newer fills)
 * rather than evicting the oldest key one at a time: V8 walks the holes a Map's front
 * deletions leave, which made each eviction cost microseconds once the window was full.
 */
class KeyGenerations {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();

  constructor(
    private readonly maxKeys: number,
    private readonly ttlMs: number,
  ) {}

  has(key: string): boolean {
    const expires = this.current.get(key) ?? this.previous.get(key);
    return expires !== undefined && expires > Date.now();
  }

  add(key: string): void {
    this.previous.delete(key);
    this.current.set(key, Date.now() + this.ttlMs);
    if (this.current.size >= this.maxKeys) {
      this.previous = this.current;
      this.current = new Map();
    }
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
  }
}

/**
 * The default `IdempotencyStore`: the recent keys of each scope in this process, bounded in
 * count and age (lost on restart, not shared between instances). Answers synchronously.
 */
export class InMemoryIdempotencyStore extends IdempotencyStore {
  private readonly maxKeys: number;
  private readonly ttlMs: number;
  /** By scope object first (the hot path), by its name when a caller makes new scope objects. */
  private readonly byScope = new WeakMap<IdempotencyScope, KeyGenerations>();
  private readonly byName = new Map<string, KeyGenerations>();

  constructor(options: InMemoryIdempotencyOptions = {}) {
    super();
    this.maxKeys = options.maxKeys ?? 10_000;
    this.ttlMs = options.ttlMs ?? 60 * 60 * 1000;
  }

  seen(scope: IdempotencyScope, key: string): boolean {
    return this.keysOf(scope).has(key);
  }

  /** With `tx`, the key is added once the transaction commits (never on a rollback). */
  record(scope: IdempotencyScope, key: string, tx?: DatabaseTransaction): boolean {
    const keys = this.keysOf(scope);
    const fresh = !keys.has(key);
    if (tx) {
      tx.onCommit(() => {
        keys.add(key);
      });
    } else {
      keys.add(key);
    }
    return fresh;
  }

  /** Forgets every key. */
  clear(): void {
    for (const keys of this.byName.values()) keys.clear();
  }

  private keysOf(scope: IdempotencyScope): KeyGenerations {
    let keys = this.byScope.get(scope);
    if (keys) return keys;
    const name = `${scope.groupId}\u0000${scope.handler}`;
    keys = this.byName.get(name);
    if (!keys) {
      keys = new KeyGenerations(this.maxKeys, this.ttlMs);
      this.byName.set(name, keys);
    }
    this.byScope.set(scope, keys);
    return keys;
  }
}
