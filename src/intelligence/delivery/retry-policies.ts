import type { RetryPolicy } from '../intelligence.options.js';

/** A handler's route as far as retries care: its name, topic and own policy. */
export interface RetryRoute {
  name: string;
  topic: string;
  retry?: RetryPolicy;
}

/** The retry policy of each handler of a wiring: its own, else the module's. */
export class RetryPolicies {
  private readonly own = new Map<string, RetryPolicy>();
  private readonly names = new Map<string, string[]>();

  constructor(
    private readonly fallback: RetryPolicy,
    routes: readonly RetryRoute[] = [],
  ) {
    for (const { name, topic, retry } of routes) {
      const key = routeKey(topic, name);
      if (retry && !this.own.has(key)) this.own.set(key, retry);
      const names = this.names.get(topic) ?? [];
      if (!names.includes(name)) names.push(name);
      this.names.set(topic, names);
    }
  }

  of(topic: string, handler: string): RetryPolicy {
    return this.own.get(routeKey(topic, handler)) ?? this.fallback;
  }

  /** The handlers routed from `topic`. */
  handlersOf(topic: string): readonly string[] {
    return this.names.get(topic) ?? [];
  }

  /** Every tier delay some handler's policy uses, ascending. */
  delays(): number[] {
    const delays = new Set<number>();
    for (const [topic, names] of this.names) {
      for (const name of names) {
        const policy = this.of(topic, name);
        if (policy.mode === 'topics') for (const delay of policy.delaysMs) delays.add(delay);
      }
    }
    return [...delays].sort((a, b) => a - b);
  }
}

function routeKey(topic: string, handler: string): string {
  return `${topic}\u0000${handler}`;
}
