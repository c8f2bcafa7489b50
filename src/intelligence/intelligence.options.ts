import type { EventBus } from './bus/event-bus.js';
import type { KafkaBusOptions } from './bus/kafka-bus.options.js';
import type { LogSanitizerOptions } from './logging/log-sanitizer.js';

/** The embedded in-process bus (the default). */
export interface MemoryBusOptions {
  kind: 'memory';
  /**
   * Messages a topic keeps before `publish` fails with `BusBufferFullError`.
   * @default 10000
   */
  maxBufferedPerTopic?: number;
}

/** Which event bus the module uses: the embedded one, Kafka, or your own adapter. */
export type BusOption = MemoryBusOptions | KafkaBusOptions | EventBus;

export interface IntelligenceModuleOptions {
  /** Name of the service; used as the producer name, client id and in introspection. */
  serviceName: string;
  /** @default { kind: 'memory' } */
  bus?: BusOption;
  /** Extra secret patterns and opt-in redaction of e-mails and IP addresses. */
  logging?: LogSanitizerOptions;
}

/** Thrown at boot when the module's options are invalid; names the bad field. */
export class IntelligenceOptionsError extends Error {
  override readonly name = 'IntelligenceOptionsError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`Invalid IntelligenceModule option "${field}": ${problem}`);
  }
}
