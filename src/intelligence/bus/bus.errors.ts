import type { BusFailure } from './bus-failure.js';

/** Base class of every error the event bus raises. */
export class BusError extends Error {
  override name = 'BusError';
  /** Permanent (a configuration change is needed) or transient, when the bus can tell. */
  failure?: BusFailure;
}

/** The bus could not reach its brokers within the bounded retry. */
export class BusConnectionError extends BusError {
  override name = 'BusConnectionError';
}

/** `publish`/`subscribe` was called on a bus that is not connected (never, or no longer). */
export class BusNotConnectedError extends BusError {
  override name = 'BusNotConnectedError';
  constructor(operation: string) {
    super(`Cannot ${operation}: the event bus is not connected`);
  }
}

/** A consumer group fell so far behind that the embedded bus refuses more messages. */
export class BusBufferFullError extends BusError {
  override name = 'BusBufferFullError';
}

/** The bus does not implement an optional capability (a custom adapter without `openReader`). */
export class UnsupportedBusCapabilityError extends BusError {
  override name = 'UnsupportedBusCapabilityError';
  constructor(
    readonly capability: string,
    adapter: string,
  ) {
    super(`${adapter} does not support ${capability}`);
  }
}

/** A message is larger than the bus accepts. */
export class BusMessageTooLargeError extends BusError {
  override name = 'BusMessageTooLargeError';
}

/** The bus failed to publish a message. */
export class BusPublishError extends BusError {
  override name = 'BusPublishError';
}

/**
 * Thrown by a message handler to ask for redelivery after `delayMs` instead of the default
 * backoff. The partition is paused meanwhile; other partitions keep flowing.
 */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
  constructor(
    readonly delayMs: number,
    options?: { cause?: unknown },
  ) {
    super(`Redeliver in ${delayMs} ms`, options);
  }
}

/**
 * A `RetryLaterError` for a message that did not fail but is not due yet (a retry tier's):
 * its partition waits for it without the message counting as failing in health.
 */
export class NotDueYetError extends RetryLaterError {
  override name = 'NotDueYetError';
}
