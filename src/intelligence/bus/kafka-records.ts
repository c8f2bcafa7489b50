import type { KafkaMessage } from 'kafkajs';
import type { BusMessage } from './bus-message.interface.js';

/** A kafkajs message as a plain `BusMessage` (header values decoded as UTF-8). */
export function toBusMessage(topic: string, partition: number, message: KafkaMessage): BusMessage {
  const headers: Record<string, string> = {};
  const raw = message.headers;
  if (raw) {
    for (const name in raw) {
      const value = raw[name];
      const first = Array.isArray(value) ? value[0] : value;
      if (first !== undefined) headers[name] = first.toString();
    }
  }
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: message.key,
    value: message.value,
    headers,
  };
}
