import { Injectable } from '@nestjs/common';
import { IntelligenceHandler } from '../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import type { IntelligenceEvent } from '../../src/intelligence/wire/intelligence-event.interface.js';
import type { DispatchContext } from '../../src/intelligence/dispatch/dispatch-context.interface.js';
import { IntelligenceNode } from '../../src/intelligence/dispatch/intelligence-node.decorator.js';

export const ALPHA_TOPIC = 'onex.evt.test.alpha-requested.v1';
export const BETA_TOPIC = 'onex.cmd.test.beta-requested.v1';
export const ALPHA_OUTPUT = 'onex.evt.test.alpha-done.v1';

/** Records what the sample handlers saw, per app. */
@Injectable()
export class HandledEvents {
  readonly events: IntelligenceEvent[] = [];
}

@IntelligenceNode({ name: 'alpha-effect', kind: 'effect', version: '1.0.0' })
@Injectable()
export class AlphaEffectNode {
  constructor(private readonly handled: HandledEvents) {}

  @IntelligenceHandler(ALPHA_TOPIC)
  async onAlpha(event: IntelligenceEvent, ctx: DispatchContext): Promise<void> {
    this.handled.events.push(event);
    await ctx.publish(ALPHA_OUTPUT, { done: true });
  }
}

@IntelligenceNode({ name: 'beta-effect', kind: 'effect', version: '2.1.0' })
@Injectable()
export class BetaEffectNode {
  constructor(private readonly handled: HandledEvents) {}

  @IntelligenceHandler(BETA_TOPIC)
  onBeta(event: IntelligenceEvent): void {
    this.handled.events.push(event);
  }
}

@IntelligenceNode({ name: 'gamma-compute', kind: 'compute', version: '0.3.0' })
@Injectable()
export class GammaComputeNode {
  @IntelligenceHandler(ALPHA_TOPIC)
  score(): number {
    return 1;
  }
}

export const SAMPLE_NODES = [HandledEvents, AlphaEffectNode, BetaEffectNode, GammaComputeNode];
