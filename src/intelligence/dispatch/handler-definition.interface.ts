import type { HandlerRouteMetadata } from './intelligence-handler.decorator.js';
import type { IntelligenceHandlerFn } from './dispatch-context.interface.js';

/** A discovered handler bound to its route. */
export interface HandlerDefinition extends HandlerRouteMetadata {
  /** `Class.method`, unique per handler. */
  name: string;
  /** Name of the node it belongs to (the class name when the class is not a node). */
  node: string;
  invoke: IntelligenceHandlerFn;
}
