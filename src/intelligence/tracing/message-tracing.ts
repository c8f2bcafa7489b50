import type { Attributes, Context, Tracer, TracerProvider } from '@opentelemetry/api';
import type { BusMessage } from '../bus/bus-message.interface.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import { loadOtelApi, type OtelApi } from './otel-api.js';
import { SpanConsumeTrace, SpanPublishTrace, type LoadedOtel } from './otel-traces.js';
import type {
  ConsumeTrace,
  PublishKind,
  PublishTrace,
  TraceParent,
} from './message-trace.interface.js';

const TRACER_NAME = 'nestjs-intelligence';
const TRACE_HEADERS: ReadonlySet<string> = new Set(['traceparent', 'tracestate']);

const NOT_TRACED: ConsumeTrace = Object.freeze({ parent: undefined, end: () => undefined });
const endNothing = (): void => undefined;

/** The API's global provider before an SDK is registered: it hands out its delegate's tracers. */
interface DelegatingProvider {
  getDelegateTracer(name: string): Tracer | undefined;
}

/**
 * OpenTelemetry spans for the messages the module consumes and publishes, with W3C trace
 * context (`traceparent`, `tracestate`) read from and written to message headers through the
 * globally registered propagator. A no-op when tracing is off, when `@opentelemetry/api` is not
 * installed, or while no SDK is registered (a consumed message then allocates nothing); it starts
 * recording as soon as an SDK is. Parents are passed explicitly: no context manager is needed.
 */
export class MessageTracing {
  /** Traces nothing: for callers without tracing. */
  static readonly disabled = new MessageTracing(undefined);

  /** The provider `tracer` came from: a new global provider means a new tracer. */
  private provider: TracerProvider | undefined;
  private tracer: Tracer | undefined;

  private constructor(private readonly otel: LoadedOtel | undefined) {}

  /**
   * Tracing as configured: `disabled` unless `enabled` and `@opentelemetry/api` is installed.
   * Error descriptions on spans go through `sanitizer`.
   */
  static async load(
    enabled: boolean,
    sanitizer: LogSanitizer = new LogSanitizer(),
  ): Promise<MessageTracing> {
    if (!enabled) return MessageTracing.disabled;
    const api = await loadOtelApi();
    return api ? new MessageTracing({ api, sanitizer }) : MessageTracing.disabled;
  }

  /**
   * Starts the CONSUMER span `process <topic>` of one dispatch of `message`, a child of the
   * trace context its headers carry. `messageId` is the envelope id, once decoded.
   */
  startConsume(
    message: BusMessage,
    groupId: string,
    attempt: number,
    messageId?: string,
  ): ConsumeTrace {
    const otel = this.otel;
    const tracer = otel && this.sdkTracer(otel.api);
    if (!otel || !tracer) return NOT_TRACED;
    const { api } = otel;
    const incoming = api.propagation.extract(
      api.context.active(),
      message.headers,
      api.defaultTextMapGetter,
    );
    const attributes: Attributes = {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': message.topic,
      'messaging.destination.partition.id': String(message.partition),
      'messaging.kafka.offset': offsetValue(message.offset),
      'messaging.consumer.group.name': groupId,
      'intelligence.attempt': attempt,
    };
    if (messageId !== undefined) attributes['messaging.message.id'] = messageId;
    const span = tracer.startSpan(
      `process ${message.topic}`,
      { kind: api.SpanKind.CONSUMER, attributes },
      incoming,
    );
    return new SpanConsumeTrace(span, api.trace.setSpan(incoming, span), otel);
  }

  /**
   * Starts the PRODUCER span `send <topic>`, a child of `parent` (else of the active context),
   * and returns the headers to send with it: a copy of `headers` whose `traceparent` and
   * `tracestate` name the new span. End it once the publish settled:
   *
   * ```ts
   * const trace = tracing.injectPublish(topic, message.headers ?? {}, outcome.trace, 'dead_letter');
   * try {
   *   await bus.publish(topic, { ...message, headers: trace.headers });
   *   trace.end();
   * } catch (error) {
   *   trace.end(error);
   *   throw error;
   * }
   * ```
   */
  injectPublish(
    topic: string,
    headers: Record<string, string>,
    parent: TraceParent | undefined,
    kind: PublishKind = 'publish',
  ): PublishTrace {
    const otel = this.otel;
    const tracer = otel && this.sdkTracer(otel.api);
    if (!otel || !tracer) return { headers, end: endNothing };
    const { api } = otel;
    const context = (parent as unknown as Context | undefined) ?? api.context.active();
    const span = tracer.startSpan(
      `send ${topic}`,
      {
        kind: api.SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'send',
          'messaging.destination.name': topic,
          'intelligence.publish.kind': kind,
        },
      },
      context,
    );
    const carried: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (!TRACE_HEADERS.has(name)) carried[name] = value;
    }
    api.propagation.inject(api.trace.setSpan(context, span), carried, api.defaultTextMapSetter);
    return new SpanPublishTrace(span, carried, otel);
  }

  /** The registered SDK's tracer; undefined while none is registered (nothing would record). */
  private sdkTracer(api: OtelApi): Tracer | undefined {
    const provider = api.trace.getTracerProvider();
    if (provider === this.provider) return this.tracer;
    const tracer =
      'getDelegateTracer' in provider
        ? (provider as DelegatingProvider).getDelegateTracer(TRACER_NAME)
        : provider.getTracer(TRACER_NAME);
    if (tracer) {
      this.provider = provider;
      this.tracer = tracer;
    }
    return tracer;
  }
}

/** A Kafka offset as a number while it is exactly one, else as its decimal string. */
function offsetValue(offset: string): number | string {
  const value = Number(offset);
  return Number.isSafeInteger(value) ? value : offset;
}
