import { types } from 'node:util';
import type { Context, Span } from '@opentelemetry/api';
import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type { OtelApi } from './otel-api.js';
import type { ConsumeTrace, PublishTrace, TraceParent } from './message-trace.interface.js';

/** The loaded API and what describes errors on spans. */
export interface LoadedOtel {
  readonly api: OtelApi;
  readonly sanitizer: LogSanitizer;
}

/** A consumer span: its outcome and status set once, at the end. */
export class SpanConsumeTrace implements ConsumeTrace {
  readonly parent: TraceParent;
  private ended = false;

  constructor(
    private readonly span: Span,
    parent: Context,
    private readonly otel: LoadedOtel,
  ) {
    this.parent = parent as unknown as TraceParent;
  }

  end(outcome: string, error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.span.setAttribute('intelligence.outcome', outcome);
    if (outcome !== 'success') markFailed(this.span, this.otel, outcome, error);
    this.span.end();
  }
}

/** A producer span and the headers that carry it. */
export class SpanPublishTrace implements PublishTrace {
  private ended = false;

  constructor(
    private readonly span: Span,
    readonly headers: Record<string, string>,
    private readonly otel: LoadedOtel,
  ) {}

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) markFailed(this.span, this.otel, 'publish_error', error);
    this.span.end();
  }
}

/**
 * Status ERROR with the sanitized description of `error`, and `error.type`: the error's class
 * name, else `fallback`. Never the error's stack or anything of the payload.
 */
function markFailed(span: Span, { api, sanitizer }: LoadedOtel, fallback: string, error: unknown) {
  const isError = error instanceof Error || types.isNativeError(error);
  span.setAttribute('error.type', isError ? error.constructor.name : fallback);
  span.setStatus({
    code: api.SpanStatusCode.ERROR,
    message: error === undefined ? fallback : sanitizer.describeError(error),
  });
}
