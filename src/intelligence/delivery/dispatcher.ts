import type { BusMessage } from '../bus/bus-message.interface.js';
import type { DispatchOutcome } from './dispatch-outcome.interface.js';

/** The message as a consumer group received it: its topic, partition and offset. */
export interface ReceivedFrom {
  message: BusMessage;
  groupId: string;
}

/**
 * What the error policy needs of routing: run the handlers of one message, except those that
 * already succeeded on an earlier attempt, and say what happened. The `DispatchEngine` is the
 * one the module provides under this token.
 */
export abstract class Dispatcher {
  /**
   * The outcome, at once when every handler finished synchronously. `received` is where the
   * message was consumed when that is not where it is routed from (a retry tier's message is
   * routed as on its original topic): the consumer span names it.
   */
  abstract handle(
    message: BusMessage,
    attempt: number,
    succeeded?: ReadonlySet<string>,
    received?: ReceivedFrom,
  ): DispatchOutcome | Promise<DispatchOutcome>;

  /** Names of the handlers running now. */
  abstract running(): string[];

  /** Gives up every running handler: their deliveries reject with `DeliveryAbandonedError`. */
  abstract abandonAll(): void;
}
