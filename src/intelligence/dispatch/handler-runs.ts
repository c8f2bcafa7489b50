import type { DispatchOutcome, HandlerFailure } from '../delivery/dispatch-outcome.interface.js';
import type { IntelligenceEvent } from '../wire/intelligence-event.interface.js';
import type { HandlerDefinition } from './handler-definition.interface.js';

/** Names of a route's handlers, made once per route (routes are frozen arrays). */
const routeNames = new WeakMap<readonly HandlerDefinition[], readonly string[]>();

/** What the handlers of one message did on this attempt, and the outcome that makes. */
export class HandlerRuns {
  private failures: HandlerFailure[] | undefined;
  private done: string[] | undefined;

  constructor(
    readonly event: IntelligenceEvent,
    private readonly route: readonly HandlerDefinition[],
    private readonly succeeded: ReadonlySet<string>,
  ) {}

  /** Already succeeded on an earlier attempt: not run again. */
  succeededBefore(handler: HandlerDefinition): boolean {
    return this.succeeded.has(handler.name);
  }

  add(handler: HandlerDefinition, failure: HandlerFailure | undefined): void {
    if (failure) (this.failures ??= []).push(failure);
    else (this.done ??= []).push(handler.name);
  }

  outcome(): DispatchOutcome {
    const { event, failures } = this;
    if (failures) return { status: 'handler_error', event, failures, succeeded: this.names() };
    return { status: 'success', event, handlers: this.names() };
  }

  /** Handlers that succeeded, on this attempt or an earlier one. */
  private names(): readonly string[] {
    if (this.succeeded.size > 0 || this.failures) {
      return [...this.succeeded, ...(this.done ?? [])];
    }
    let names = routeNames.get(this.route);
    if (!names) {
      names = Object.freeze(this.route.map((handler) => handler.name));
      routeNames.set(this.route, names);
    }
    return names;
  }
}
