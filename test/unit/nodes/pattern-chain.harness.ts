import { ConsoleLogger, type DynamicModule, type Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { createEnvelope, toOutgoing } from '../../../src/intelligence/wire/envelope.js';
import { IntelligenceModule } from '../../../src/intelligence/intelligence.module.js';
import {
  PATTERN_LIFECYCLE_TRANSITION_TOPIC,
  PATTERN_LIFECYCLE_TRANSITIONED_TOPIC,
  PATTERN_STORED_TOPIC,
  PatternNodesModule,
  PatternStore,
} from '../../../src/nodes/index.js';
import { FaultyBus } from '../../support/faulty-bus.js';
import { waitFor } from '../../support/wait-for.js';

export const DLQ_COMMANDS = 'onex.dlq.commands.v1';

/** The real IntelligenceModule and pattern nodes on a recording embedded bus. */
export class PatternChain {
  private constructor(
    readonly app: TestingModule,
    readonly bus: FaultyBus,
    readonly store: PatternStore,
  ) {}

  static async start(
    nodes: Type | DynamicModule = PatternNodesModule,
    bus = new FaultyBus(),
  ): Promise<PatternChain> {
    const app = await Test.createTestingModule({
      imports: [
        IntelligenceModule.forRoot({
          serviceName: 'nodes-test',
          bus,
          introspection: { enabled: false },
          wiring: { retry: false },
          dispatch: { backoff: { initialMs: 5, maxMs: 20 } },
          health: false,
        }),
        nodes,
      ],
    })
      .setLogger(new ConsoleLogger({ logLevels: process.env.TEST_LOGS ? ['error', 'warn'] : [] }))
      .compile();
    await app.init();
    return new PatternChain(app, bus, app.get(PatternStore));
  }

  /** Publishes `payload` in a fresh envelope; resolves to the envelope. */
  async send(topic: string, payload: unknown, key?: string) {
    const envelope = createEnvelope({ topic, payload });
    await this.bus.publish(topic, toOutgoing(envelope, key));
    return envelope;
  }

  /** A transition command, keyed by pattern so a pattern's commands keep their order. */
  transition(patternId: string, toStatus: string, reason?: string) {
    return this.send(
      PATTERN_LIFECYCLE_TRANSITION_TOPIC,
      { pattern_id: patternId, to_status: toStatus, ...(reason ? { reason } : {}) },
      patternId,
    );
  }

  correlated(topic: string, correlationId: string): Record<string, unknown>[] {
    return this.bus
      .envelopes(topic)
      .filter((envelope) => envelope.correlation_id === correlationId);
  }

  payloads<T>(topic: string): T[] {
    return this.bus.envelopes(topic).map((envelope) => envelope.payload as T);
  }

  deadLetters(): { headers: Record<string, string>; value: string }[] {
    return this.bus.published
      .filter((entry) => entry.topic === DLQ_COMMANDS)
      .map((entry) => ({
        headers: entry.message.headers ?? {},
        value: entry.message.value?.toString() ?? '',
      }));
  }

  /** Waits until exactly this many stored and transitioned events were published. */
  async settled(stored: number, transitioned: number): Promise<void> {
    await waitFor(
      () =>
        this.bus.envelopes(PATTERN_STORED_TOPIC).length === stored &&
        this.bus.envelopes(PATTERN_LIFECYCLE_TRANSITIONED_TOPIC).length === transitioned,
      `${stored} stored and ${transitioned} transitioned`,
    );
  }

  close(): Promise<void> {
    return this.app.close();
  }
}
