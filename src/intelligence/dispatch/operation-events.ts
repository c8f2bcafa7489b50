import type { EventBus } from '../bus/event-bus.js';
import { createEnvelope, toOutgoing } from '../wire/envelope.js';
import type { IntelligenceEvent } from '../wire/intelligence-event.interface.js';

/** Topics of operation lifecycle events for a service. */
export function operationTopics(service: string): { started: string; completed: string } {
  return {
    started: `onex.evt.${service}.operation-started.v1`,
    completed: `onex.evt.${service}.operation-completed.v1`,
  };
}

export interface OperationFacts {
  service: string;
  handler: string;
  node: string;
  event: IntelligenceEvent;
}

/** Publishes `operation-started`, correlated with the event being handled. */
export async function publishOperationStarted(bus: EventBus, facts: OperationFacts): Promise<void> {
  await publish(bus, operationTopics(facts.service).started, facts, { status: 'started' });
}

/** Publishes `operation-completed` with the outcome and duration. */
export async function publishOperationCompleted(
  bus: EventBus,
  facts: OperationFacts,
  outcome: { status: 'succeeded' | 'failed'; durationMs: number; attempt: number },
): Promise<void> {
  await publish(bus, operationTopics(facts.service).completed, facts, {
    status: outcome.status,
    duration_ms: Math.round(outcome.durationMs),
    attempt: outcome.attempt,
  });
}

async function publish(
  bus: EventBus,
  topic: string,
  facts: OperationFacts,
  fields: Record<string, unknown>,
): Promise<void> {
  const envelope = createEnvelope({
    topic,
    correlationId: facts.event.correlationId,
    causationId: facts.event.envelopeId,
    source: facts.service,
    payload: {
      handler: facts.handler,
      node: facts.node,
      source_topic: facts.event.topic,
      event_type: facts.event.eventType,
      ...fields,
      timestamp: new Date().toISOString(),
    },
  });
  await bus.publish(topic, toOutgoing(envelope));
}
