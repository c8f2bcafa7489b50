/** Topic on which startup and shutdown introspection events are published. */
export const INTROSPECTION_TOPIC = 'onex.evt.platform.node-introspection.v1';

/** Topic on which effect nodes publish their heartbeats. */
export const HEARTBEAT_TOPIC = 'onex.evt.platform.node-heartbeat.v1';

/** Dead-letter topics, one per message category. */
export const DEAD_LETTER_TOPICS = {
  event: 'onex.dlq.events.v1',
  command: 'onex.dlq.commands.v1',
  intent: 'onex.dlq.intents.v1',
} as const;

/** The platform's shared consumer group. */
export const DEFAULT_GROUP_ID = 'omniintelligence-hooks';
