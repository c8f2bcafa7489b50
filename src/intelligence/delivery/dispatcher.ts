import type { BusMessage } from '../bus/bus-message.interface.js';
import type { DispatchOutcome } from './dispatch-outcome.interface.js';

/**
 * What the error policy needs of routing: run the handlers of one message, except those that
 * already succeeded on an earlier attempt, and say what happened. The `DispatchEngine` is the
 * one the module provides under this token.
 */
export abstract class Dispatcher {
  /** The outcome, at once when every handler finished synchronously. */
  abstract handle(
    message: BusMessage,
    attempt: number,
    succeeded?: ReadonlySet<string>,
  ): DispatchOutcome | Promise<DispatchOutcome>;

  /** Names of the handlers running now. */
  abstract running(): string[];

  /** Gives up every running handler: their deliveries reject with `DeliveryAbandonedError`. */
  abstract abandonAll(): void;
}
