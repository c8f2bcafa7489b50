import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BusMessage, Subscription } from '../bus/bus-message.interface.js';
import { LogSanitizer } from '../logging/log-sanitizer.js';
import { DispatchEngine } from './dispatch.engine.js';
import type { DispatchOutcome } from './dispatch-outcome.interface.js';

/** A delivery cut off by the drain deadline: left unacknowledged, so it is redelivered. */
export class DeliveryAbandonedError extends Error {
  override readonly name = 'DeliveryAbandonedError';
  constructor() {
    super('Shutdown drain deadline reached; the message stays uncommitted');
  }
}

/** A message whose handlers failed; the bus delivers it again. */
export class HandlerFailedError extends Error {
  override readonly name = 'HandlerFailedError';
}

export interface DrainResult {
  drained: boolean;
  /** Handlers still running at the deadline. */
  pending: string[];
}

/**
 * The bridge from the bus to the engine: decides, from the dispatch outcome, whether a
 * message is acknowledged. Handles the bounded drain at shutdown.
 */
@Injectable()
export class MessageDelivery {
  private readonly logger = new Logger('MessageDelivery');
  private abandonment = createAbandonment();

  constructor(
    private readonly engine: DispatchEngine,
    @Inject(LogSanitizer) private readonly sanitizer: LogSanitizer,
  ) {}

  /** The bus handler: resolves to acknowledge, rejects to have the message redelivered. */
  async deliver(message: BusMessage): Promise<void> {
    const outcome = await Promise.race([this.engine.dispatch(message), this.abandonment.promise]);
    this.settle(message, outcome);
  }

  /**
   * Stops the subscriptions (no new fetches; what was handled is committed), waiting for
   * in-flight handlers up to `timeoutMs`. What still runs at the deadline is abandoned:
   * left uncommitted for redelivery, never acknowledged.
   */
  async stop(subscriptions: readonly Subscription[], timeoutMs: number): Promise<DrainResult> {
    const closing = Promise.allSettled(subscriptions.map((subscription) => subscription.close()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        resolve('timeout');
      }, timeoutMs);
    });
    const first = await Promise.race([closing, deadline]);
    clearTimeout(timer);
    if (first !== 'timeout') return { drained: true, pending: [] };
    const pending = this.engine.running();
    this.abandonment.reject(new DeliveryAbandonedError());
    await closing;
    this.abandonment = createAbandonment();
    return { drained: false, pending };
  }

  private settle(message: BusMessage, outcome: DispatchOutcome): void {
    const where = { topic: message.topic, partition: message.partition, offset: message.offset };
    switch (outcome.status) {
      case 'success':
        return;
      case 'no_handler':
        this.logger.warn({ msg: 'No handler for message; acknowledged', ...where });
        return;
      case 'invalid_message':
        this.logger.warn({
          msg: 'Invalid message; acknowledged',
          ...where,
          reason: outcome.reason,
          detail: this.sanitizer.sanitize(outcome.detail),
        });
        return;
      case 'handler_error':
        throw new HandlerFailedError(
          outcome.failures
            .map((failure) => `${failure.handler}: ${this.sanitizer.describeError(failure.error)}`)
            .join('; '),
        );
    }
  }
}

/** A promise that only ever rejects, when told to: races in-flight deliveries at the deadline. */
function createAbandonment(): { promise: Promise<never>; reject: (error: Error) => void } {
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<never>((_, fail) => {
    reject = fail;
  });
  promise.catch(() => undefined);
  return { promise, reject };
}
