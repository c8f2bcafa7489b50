import type { HandlerDefinition } from './handler-definition.interface.js';

interface TopicRoutes {
  /** Handlers of every event on the topic. */
  readonly any: readonly HandlerDefinition[];
  /** Handlers of one event type. */
  readonly byType: ReadonlyMap<string, readonly HandlerDefinition[]>;
}

const NONE: readonly HandlerDefinition[] = Object.freeze([]);

/** Exact-topic routes, then event type; immutable once built. */
export class RouteTable {
  private readonly routes: ReadonlyMap<string, TopicRoutes>;

  constructor(handlers: readonly HandlerDefinition[]) {
    const routes = new Map<
      string,
      { any: HandlerDefinition[]; byType: Map<string, HandlerDefinition[]> }
    >();
    for (const handler of handlers) {
      let topic = routes.get(handler.topic);
      if (!topic) {
        topic = { any: [], byType: new Map() };
        routes.set(handler.topic, topic);
      }
      if (handler.eventType === undefined) {
        topic.any.push(handler);
      } else {
        const list = topic.byType.get(handler.eventType) ?? [];
        list.push(handler);
        topic.byType.set(handler.eventType, list);
      }
    }
    for (const topic of routes.values()) {
      Object.freeze(topic.any);
      for (const list of topic.byType.values()) Object.freeze(list);
    }
    this.routes = routes;
    Object.freeze(this);
  }

  topics(): string[] {
    return [...this.routes.keys()];
  }

  hasTopic(topic: string): boolean {
    return this.routes.has(topic);
  }

  /** Whether any handler could take `eventType` on `topic` (undefined: unknown yet). */
  accepts(topic: string, eventType: string | undefined): boolean {
    const routes = this.routes.get(topic);
    if (!routes) return false;
    return eventType === undefined || routes.any.length > 0 || routes.byType.has(eventType);
  }

  /** Handlers of one event, each once: the topic-wide ones, then the event type's. */
  match(topic: string, eventType: string): readonly HandlerDefinition[] {
    const routes = this.routes.get(topic);
    if (!routes) return NONE;
    const typed = routes.byType.get(eventType);
    if (!typed) return routes.any;
    if (routes.any.length === 0) return typed;
    return [...new Set([...routes.any, ...typed])];
  }
}
