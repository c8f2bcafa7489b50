import type { TraceParent } from '../tracing/message-trace.interface.js';
import type { InvalidReason } from '../wire/envelope.codec.js';
import type { IntelligenceEvent } from '../wire/intelligence-event.interface.js';

export interface HandlerFailure {
  handler: string;
  error: unknown;
  /** The handler marked the error permanent (`PermanentHandlerError`): no retry. */
  permanent: boolean;
}

/** What happened to one message. */
export type DispatchOutcome = (
  | { status: 'success'; event: IntelligenceEvent; handlers: readonly string[] }
  | { status: 'no_handler'; event?: IntelligenceEvent; eventType?: string }
  | { status: 'invalid_message'; reason: InvalidReason; detail: string }
  | {
      status: 'handler_error';
      event: IntelligenceEvent;
      failures: HandlerFailure[];
      /** Handlers that succeeded on this or an earlier attempt. */
      succeeded: readonly string[];
    }
) &
  OutcomeTrace;

/** Set on every outcome while tracing records. */
export interface OutcomeTrace {
  /** The dispatch's consumer span: the parent of the dead-letter and retry-tier publishes. */
  trace?: TraceParent;
}

/** Thrown by a handler to say retrying cannot help: the message goes to the dead letters. */
export class PermanentHandlerError extends Error {
  override name = 'PermanentHandlerError';
}
