// The app of the lifecycle benchmark: IntelligenceModule on an embedded bus whose `subscribe`
// can be made to fail, plus one effect node and one compute node with a handler each.
// Plain .mjs: decorators are applied by calling them.
import 'reflect-metadata';
import { ConsoleLogger, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  InMemoryEventBus,
  IntelligenceCleanupService,
  IntelligenceHandler,
  IntelligenceModule,
  IntelligenceNode,
  IntelligenceRuntime,
} from '../../dist/intelligence/index.js';

export const EFFECT_TOPIC = 'onex.evt.cycles.effect-requested.v1';
export const COMPUTE_TOPIC = 'onex.cmd.cycles.compute-requested.v1';

/** The embedded bus with a switch: while `failSubscribe` is set, `subscribe` rejects. */
export class CyclingBus extends InMemoryEventBus {
  failSubscribe = false;
  connects = 0;
  published = 0;

  /** @param {import('../../dist/intelligence/index.js').InMemoryEventBusOptions} [options] */
  constructor(options = {}) {
    super(options);
    this.retainCap = options.maxBufferedPerTopic ?? 10_000;
  }

  connect() {
    this.connects += 1;
    return super.connect();
  }

  subscribe(topics, groupId, handler, options) {
    if (this.failSubscribe) return Promise.reject(new Error('subscribe refused (bench fault)'));
    return super.subscribe(topics, groupId, handler, options);
  }

  publishBatch(topic, messages) {
    this.published += messages.length;
    return super.publishBatch(topic, messages);
  }

  /**
   * Messages the bus retains now, over all topics (a topic without a consumer group keeps its
   * newest `maxBufferedPerTopic`). Reads the bus's internals: undefined if they changed shape.
   * @returns {number | undefined}
   */
  retainedMessages() {
    const topics = /** @type {{ topics?: unknown }} */ (this).topics;
    if (!(topics instanceof Map)) return undefined;
    let sum = 0;
    for (const log of topics.values()) {
      if (typeof log?.retained !== 'function') return undefined;
      sum += log.retained();
    }
    return sum;
  }
}

class CyclesEffectNode {
  handled = 0;

  async onEffect() {
    this.handled += 1;
  }
}
IntelligenceNode({ name: 'cycles-effect', kind: 'effect', version: '1.0.0' })(CyclesEffectNode);
Injectable()(CyclesEffectNode);
decorate(CyclesEffectNode, 'onEffect', IntelligenceHandler(EFFECT_TOPIC));

class CyclesComputeNode {
  score() {
    return 1;
  }
}
IntelligenceNode({ name: 'cycles-compute', kind: 'compute', version: '1.0.0' })(CyclesComputeNode);
Injectable()(CyclesComputeNode);
decorate(CyclesComputeNode, 'score', IntelligenceHandler(COMPUTE_TOPIC));

/** Applies a method decorator the way TypeScript's legacy decorators do. */
function decorate(Class, method, decorator) {
  const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, method);
  const result = decorator(Class.prototype, method, descriptor);
  if (result) Object.defineProperty(Class.prototype, method, result);
}

/**
 * Compiles and initialises the app (its first wiring runs in `init()`), silent.
 * @param {CyclingBus} bus
 */
export async function startCyclesApp(bus) {
  const app = await Test.createTestingModule({
    imports: [
      IntelligenceModule.forRoot({
        serviceName: 'cycles',
        bus,
        introspection: { heartbeatIntervalMs: 60_000 },
        wiring: { retry: false },
        health: false,
      }),
    ],
    providers: [CyclesEffectNode, CyclesComputeNode],
  })
    .setLogger(new ConsoleLogger({ logLevels: [] }))
    .compile();
  await app.init();
  return {
    app,
    runtime: app.get(IntelligenceRuntime),
    cleanup: app.get(IntelligenceCleanupService),
  };
}
