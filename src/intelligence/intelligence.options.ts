import type { DatabaseOptions } from './database/database.options.js';
import type { EventBus } from './bus/event-bus.js';
import type { KafkaBusOptions } from './bus/kafka-bus.options.js';
import type { LogSanitizerOptions } from './logging/log-sanitizer.js';

/** The embedded in-process bus (the default). */
export interface MemoryBusOptions {
  kind: 'memory';
  /**
   * Unconsumed messages a topic holds before `publish` fails with `BusBufferFullError`.
   * @default 10000
   */
  maxBufferedPerTopic?: number;
}

/** Which event bus the module uses: the embedded one, Kafka, or your own adapter. */
export type BusOption = MemoryBusOptions | KafkaBusOptions | EventBus;

export interface BackoffOptions {
  /** First delay. */
  initialMs: number;
  /** Largest delay. */
  maxMs: number;
}

export interface IntrospectionOptions {
  /** Publish startup/shutdown introspection and effect-node heartbeats. @default true */
  enabled?: boolean;
  /** Time between two heartbeats of an effect node. @default 30000 */
  heartbeatIntervalMs?: number;
}

/**
 * How a message whose handler failed transiently is tried again. `in-place`: redelivered on
 * its own partition after a backoff, which pauses that partition (right for short backoffs).
 * `topics`: acknowledged on its topic and handed to the group's retry tier topics, one per
 * delay (`onex.cmd.<group>.retry-<delay>ms.v1`), run again once due, then dead-lettered after
 * the last tier with its history. Later messages of its partition do not wait, so a retried
 * message falls behind later messages of its key.
 */
export type RetryPolicy = { mode: 'in-place' } | { mode: 'topics'; delaysMs: readonly number[] };

export interface DispatchOptions {
  /** Deliveries of a message before it is dead-lettered. @default 3 */
  maxAttempts?: number;
  /** Backoff between attempts (capped exponential with jitter). @default { initialMs: 200, maxMs: 10000 } */
  backoff?: BackoffOptions;
  /** Dead-letter failed messages to `onex.dlq.<category>.v1`, or to `topic`. @default true */
  deadLetter?: boolean | { topic: string };
  /** How a transient failure is retried; a handler's own `retry` overrides it. @default { mode: 'in-place' } */
  retry?: RetryPolicy;
  /** Messages of one partition handled at once (ordered per key). @default 1 */
  concurrency?: number;
  /**
   * A handler still running after this long is given up as a transient failure (retried
   * by the policy, then dead-lettered) and its `ctx.signal` aborted; JavaScript cannot stop
   * it, so it may still finish in the background. `0` turns the timeout off. @default 30000
   */
  handlerTimeoutMs?: number;
  /**
   * Where a consumer group with no committed offset starts: `'earliest'` at the beginning of
   * each topic; `'latest'` skips history: on Kafka the group's start is pinned at wiring (the
   * end offsets are committed for it), so nothing published after that is skipped, even if
   * its first member stops before it committed anything. @default 'earliest'
   */
  startFrom?: 'earliest' | 'latest';
  /** What to do with subscribed topics not of the `onex.<kind>.<producer>.<name>.v<N>` form. @default 'warn' */
  topicValidation?: 'warn' | 'reject' | 'off';
}

export interface TracingOptions {
  /**
   * OpenTelemetry spans and W3C trace-context headers, with `@opentelemetry/api` (an optional
   * peer): a consumer span per dispatch, producer spans for `ctx.publish`, dead letters and
   * retry-tier hand-overs, all injecting `traceparent`.
   * Without the package, or with no SDK registered, it costs nothing measurable. @default true
   */
  enabled?: boolean;
}

export interface WiringOptions {
  /** Make `onModuleInit` throw (after cleanup) when wiring fails. @default false */
  failFast?: boolean;
  /** Re-wire in the background after a failure; `false` to wait for a manual `wire()`. @default { initialMs: 1000, maxMs: 30000 } */
  retry?: BackoffOptions | false;
}

export interface ShutdownOptions {
  /** Longest `onModuleDestroy` waits for in-flight handlers. @default 10000 */
  drainTimeoutMs?: number;
  /**
   * Longest each closing step (a subscription, the bus connection) may take after the drain,
   * as when the broker is gone: then the cleanup goes on without it. So a shutdown takes at
   * most about `drainTimeoutMs` + 2 × this. @default 5000
   */
  disconnectTimeoutMs?: number;
}

export interface IntelligenceModuleOptions {
  /** Name of the service: producer name, client id, introspection. Kebab-case. */
  serviceName: string;
  /**
   * This app instance's identity: introspection and heartbeats carry it (with host and pid)
   * and are keyed by it, so instances of one service are told apart and a shutdown speaks
   * only for its own instance. @default a new UUID each time the app starts
   */
  instanceId?: string;
  /** @default { kind: 'memory' } */
  bus?: BusOption;
  /**
   * Maps every topic the handlers subscribe to and publish to with `ctx.publish`: a namespace
   * for a demo or test run beside a live service, say. Dead-letter, introspection and
   * heartbeat topics are the platform's own and are not mapped. @default the topic as it is
   */
  topicMap?: (topic: string) => string;
  /** Consumer group of the dispatchers. @default the Kafka bus's `groupId`, else 'omniintelligence-hooks' */
  groupId?: string;
  introspection?: IntrospectionOptions;
  dispatch?: DispatchOptions;
  wiring?: WiringOptions;
  shutdown?: ShutdownOptions;
  tracing?: TracingOptions;
  /** Extra secret patterns and opt-in redaction of e-mails and IP addresses. */
  logging?: LogSanitizerOptions;
  /**
   * An optional PostgreSQL resource: with it, each wiring opens a `pg` pool, checks that the
   * shipped migrations were applied (or applies them with `migrateOnBoot`) before subscribing,
   * and keeps idempotency keys in it (shared by the group's instances, kept across restarts);
   * handlers get `ctx.transaction()`. The cleanup closes the pool. @default none (in memory)
   */
  database?: DatabaseOptions;
}

/** Thrown at boot when the module's options are invalid; names the bad field. */
export class IntelligenceOptionsError extends Error {
  override readonly name = 'IntelligenceOptionsError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`Invalid IntelligenceModule option "${field}": ${problem}`);
  }
}
