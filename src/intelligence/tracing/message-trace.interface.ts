declare const traceParent: unique symbol;

/**
 * Where a span's children hang: the trace context of a consumer span, handed from the engine
 * to whatever publishes on the message's behalf. Opaque: only `MessageTracing` reads it.
 */
export interface TraceParent {
  readonly [traceParent]: true;
}

/** Why the module publishes a message: a handler's output, a dead letter, a retry tier's copy. */
export type PublishKind = 'publish' | 'dead_letter' | 'retry';

/** The consumer span of one dispatch. */
export interface ConsumeTrace {
  /** The context with the consumer span set, for child spans; undefined when nothing records. */
  readonly parent: TraceParent | undefined;
  /**
   * Records `outcome` (a `DispatchOutcome` status, or `abandoned`) and ends the span; any outcome
   * but `success` sets the status to ERROR, described by `error` (sanitized). Later calls do nothing.
   */
  end(outcome: string, error?: unknown): void;
}

/** The producer span of one publish. */
export interface PublishTrace {
  /** The headers to send: a copy carrying the span's `traceparent`, or the given record untouched. */
  readonly headers: Record<string, string>;
  /** Ends the span, with status ERROR when `error` is given. Later calls do nothing. */
  end(error?: unknown): void;
}
