import type { MessageCategory } from './topic-name.js';

/** An incoming event as a handler receives it. */
export interface IntelligenceEvent<T = unknown> {
  payload: T;
  eventType: string;
  category: MessageCategory;
  envelopeId: string;
  correlationId: string;
  causationId: string | null;
  timestamp: string;
  retryCount: number;
  topic: string;
  partition: number;
  offset: string;
  headers: Readonly<Record<string, string>>;
}
