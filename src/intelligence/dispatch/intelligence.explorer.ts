import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type {
  IntelligenceNodeMetadata,
  IntrospectionNode,
} from '../introspection/introspection-node.interface.js';
import { nodeIdFor } from '../introspection/node-id.js';
import { retryPolicySchema } from '../intelligence.options-validation.js';
import type { HandlerDefinition } from './handler-definition.interface.js';
import {
  INTELLIGENCE_HANDLERS,
  type HandlerRouteMetadata,
} from './intelligence-handler.decorator.js';
import type { IntelligenceEvent } from '../wire/intelligence-event.interface.js';
import type { DispatchContext } from './dispatch-context.interface.js';
import { IntelligenceNode } from './intelligence-node.decorator.js';

/** Metadata keys of @nestjs/microservices' `@EventPattern` (PATTERN_METADATA, PATTERN_HANDLER_METADATA). */
const PATTERN_METADATA = 'microservices:pattern';
const PATTERN_HANDLER_METADATA = 'microservices:handler_type';
const PATTERN_HANDLER_EVENT = 2;

/** A wiring-time error in how handlers are declared. */
export class HandlerDiscoveryError extends Error {
  override readonly name = 'HandlerDiscoveryError';
}

export interface DiscoveredHandlers {
  nodes: IntrospectionNode[];
  handlers: HandlerDefinition[];
}

type Method = (...args: unknown[]) => unknown;

/**
 * Finds `@IntelligenceNode` classes and their `@IntelligenceHandler` methods, plus
 * `@EventPattern(topic)` methods of any provider or controller (called with the payload and
 * the dispatch context, like Nest's own `(data, context)` handlers).
 */
@Injectable()
export class IntelligenceExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  explore(): DiscoveredHandlers {
    const handlers: HandlerDefinition[] = [];
    const nodes: IntrospectionNode[] = [];
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const wrapper of new Set(wrappers)) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      const meta = this.discovery.getMetadataByDecorator(IntelligenceNode, wrapper);
      const className = instance.constructor.name;
      const found = this.handlersOf(instance, meta?.name ?? className, className);
      if (found.length === 0 && !meta) continue;
      assertStatic(wrapper, className);
      handlers.push(...found);
      if (meta) nodes.push(toNode(meta, found));
    }
    assertUnique(handlers, nodes);
    return { nodes, handlers };
  }

  private handlersOf(instance: object, node: string, className: string): HandlerDefinition[] {
    const prototype = Object.getPrototypeOf(instance) as object | null;
    const found: HandlerDefinition[] = [];
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = (instance as Record<string, Method>)[methodName];
      if (typeof method !== 'function') continue;
      const name = `${className}.${methodName}`;
      const routes = (Reflect.getMetadata(INTELLIGENCE_HANDLERS, method) ??
        []) as HandlerRouteMetadata[];
      for (const route of routes) {
        assertRetryPolicy(route, name);
        found.push({
          ...route,
          name,
          node,
          invoke: (event: IntelligenceEvent, ctx: DispatchContext) =>
            method.call(instance, event, ctx),
        });
      }
      for (const topic of eventPatternTopics(method, name)) {
        found.push({
          topic,
          name,
          node,
          invoke: (event: IntelligenceEvent, ctx: DispatchContext) =>
            method.call(instance, event.payload, ctx),
        });
      }
    }
    return found;
  }
}

function eventPatternTopics(method: Method, name: string): string[] {
  if (Reflect.getMetadata(PATTERN_HANDLER_METADATA, method) !== PATTERN_HANDLER_EVENT) return [];
  const patterns = (Reflect.getMetadata(PATTERN_METADATA, method) ?? []) as unknown[];
  return patterns.map((pattern) => {
    if (typeof pattern !== 'string') {
      throw new HandlerDiscoveryError(
        `${name}: @EventPattern needs a topic name string to be dispatched (got ${JSON.stringify(pattern)})`,
      );
    }
    return pattern;
  });
}

/** A handler's own `retry` option, checked like the module's. */
function assertRetryPolicy(route: HandlerRouteMetadata, name: string): void {
  if (route.retry === undefined) return;
  const issue = retryPolicySchema.safeParse(route.retry).error?.issues[0];
  if (!issue) return;
  const field = ['retry', ...issue.path.map(String)].join('.');
  throw new HandlerDiscoveryError(`${name} ← ${route.topic}: option "${field}" ${issue.message}`);
}

function assertStatic(wrapper: InstanceWrapper, className: string): void {
  if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
    throw new HandlerDiscoveryError(
      `${className} is request-scoped or transient; intelligence handlers must live in singleton providers`,
    );
  }
}

function assertUnique(handlers: HandlerDefinition[], nodes: IntrospectionNode[]): void {
  const routes = new Set<string>();
  for (const { name, topic, eventType } of handlers) {
    const route = `${name} ← ${topic}${eventType ? ` [${eventType}]` : ''}`;
    if (routes.has(route)) throw new HandlerDiscoveryError(`Duplicate route: ${route}`);
    routes.add(route);
  }
  const names = new Set<string>();
  for (const { name } of nodes) {
    if (names.has(name)) throw new HandlerDiscoveryError(`Two nodes are named "${name}"`);
    names.add(name);
  }
}

function toNode(meta: IntelligenceNodeMetadata, handlers: HandlerDefinition[]): IntrospectionNode {
  return {
    ...meta,
    nodeId: nodeIdFor(meta.name),
    endpoints: [...new Set(handlers.map((handler) => handler.topic))],
  };
}
