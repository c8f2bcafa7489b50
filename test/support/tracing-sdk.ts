import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** The trace and span an upstream producer put in the incoming `traceparent`. */
export const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
export const UPSTREAM_SPAN = 'b7ad6b7169203331';

/**
 * Registers an SDK (every span sampled, exported to memory) and the W3C propagator globally;
 * `trace.disable()` and `propagation.disable()` undo it.
 */
export function registerTracing(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return exporter;
}

/** The one finished span called `name`. */
export function spanNamed(exporter: InMemorySpanExporter, name: string): ReadableSpan {
  const spans = exporter.getFinishedSpans().filter((span) => span.name === name);
  if (spans.length !== 1) throw new Error(`expected one span ${name}, found ${spans.length}`);
  return spans[0] as ReadableSpan;
}

/** The `traceparent` header naming `span` (sampled). */
export function traceparentOf(span: ReadableSpan): string {
  const { traceId, spanId } = span.spanContext();
  return `00-${traceId}-${spanId}-01`;
}
