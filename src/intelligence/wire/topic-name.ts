/** Message category of a topic, from its second segment (`evt`, `cmd`, `intent`). */
export type MessageCategory = 'event' | 'command' | 'intent';

const KIND_TO_CATEGORY: Record<string, MessageCategory> = {
  evt: 'event',
  cmd: 'command',
  intent: 'intent',
};

/** `onex.<evt|cmd|intent|dlq>.<producer>.<event-name>.v<N>` */
const ONEX_TOPIC =
  /^onex\.(evt|cmd|intent|dlq)\.([a-z0-9][a-z0-9-]*)\.([a-z0-9][a-z0-9-]*)\.v(\d+)$/;

export interface ParsedTopic {
  kind: 'evt' | 'cmd' | 'intent' | 'dlq';
  producer: string;
  eventName: string;
  version: number;
}

/** Parses a platform topic name; `undefined` when it is not of the platform's form. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const match = ONEX_TOPIC.exec(topic);
  if (!match) return undefined;
  const [, kind, producer, eventName, version] = match;
  return {
    kind: kind as ParsedTopic['kind'],
    producer: producer ?? '',
    eventName: eventName ?? '',
    version: Number(version),
  };
}

/** Topics whose facts are remembered; more than this and the cache starts over. */
const MAX_CACHED_TOPICS = 1_000;

/** `derive`, remembered per topic (a message path asks the same topics again and again). */
function perTopic<T>(derive: (topic: string) => T): (topic: string) => T {
  const cache = new Map<string, T>();
  return (topic) => {
    let value = cache.get(topic);
    if (value === undefined) {
      value = derive(topic);
      if (cache.size >= MAX_CACHED_TOPICS) cache.clear();
      cache.set(topic, value);
    }
    return value;
  };
}

/** The category a topic carries (`event` when the topic does not say). */
export const topicCategory = perTopic((topic): MessageCategory => {
  const kind = topic.split('.')[1];
  return (kind && KIND_TO_CATEGORY[kind]) || 'event';
});

/** The event type a topic's messages have by default: its event-name segment. */
export const defaultEventType = perTopic((topic) => parseTopic(topic)?.eventName ?? topic);
