import type { RetryPolicy } from '../intelligence.options.js';

export const INTELLIGENCE_HANDLERS = 'intelligence:handlers';

export interface IntelligenceHandlerOptions {
  /** Only events of this type (envelope `event_type`); all events on the topic when unset. */
  eventType?: string;
  /** Publish operation started / completed events for this route. @default false */
  operationEvents?: boolean;
  /** How this handler's transient failures are retried. @default the module's `dispatch.retry` */
  retry?: RetryPolicy;
  /** Key under which redeliveries of the same message are recognised and skipped. */
  idempotencyKey?: (event: {
    payload: unknown;
    correlationId: string;
    envelopeId: string;
  }) => string;
}

export interface HandlerRouteMetadata extends IntelligenceHandlerOptions {
  topic: string;
}

/**
 * Routes the events of `topic` to this method: `(event: IntelligenceEvent<T>, ctx: DispatchContext)`.
 * May be stacked to consume several topics.
 */
export function IntelligenceHandler(
  topic: string,
  options: IntelligenceHandlerOptions = {},
): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const routes = (Reflect.getMetadata(INTELLIGENCE_HANDLERS, method) ??
      []) as HandlerRouteMetadata[];
    Reflect.defineMetadata(INTELLIGENCE_HANDLERS, [...routes, { topic, ...options }], method);
    return descriptor;
  };
}
