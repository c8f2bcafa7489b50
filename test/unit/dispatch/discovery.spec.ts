import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Injectable, Scope } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import type { TestingModule } from '@nestjs/testing';
import { createEnvelope, toOutgoing } from '../../../src/intelligence/wire/envelope.js';
import { IntelligenceHandler } from '../../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import type { DispatchContext } from '../../../src/intelligence/dispatch/dispatch-context.interface.js';
import { IntelligenceNode } from '../../../src/intelligence/dispatch/intelligence-node.decorator.js';
import { operationTopics } from '../../../src/intelligence/dispatch/operation-events.js';
import type { IntelligenceModuleOptions } from '../../../src/intelligence/intelligence.options.js';
import { IntelligenceRuntime } from '../../../src/intelligence/runtime/intelligence.runtime.js';
import { captureLogs } from '../../support/capture-logs.js';
import { FaultyBus } from '../../support/faulty-bus.js';
import { compileIntelligenceApp } from '../../support/intelligence-app.js';
import { waitFor } from '../../support/wait-for.js';

const LEGACY = 'onex.evt.legacy.order-placed.v1';
const LEGACY_OUT = 'onex.evt.legacy.order-acknowledged.v1';

@Controller()
class LegacyKafkaController {
  readonly seen: unknown[] = [];

  @EventPattern(LEGACY)
  async onOrder(data: { order: string }, context: unknown): Promise<void> {
    this.seen.push(data);
    await (context as DispatchContext).publish(LEGACY_OUT, { order: data.order });
  }
}

@IntelligenceNode({ name: 'scoped', kind: 'compute', version: '1' })
@Injectable({ scope: Scope.REQUEST })
class RequestScopedNode {
  @IntelligenceHandler('onex.evt.x.y.v1')
  handle(): void {
    return undefined;
  }
}

@Injectable()
class DuplicateRoutes {
  @IntelligenceHandler('onex.evt.x.dup.v1')
  @IntelligenceHandler('onex.evt.x.dup.v1')
  handle(): void {
    return undefined;
  }
}

@Injectable()
class OddTopicHandler {
  @IntelligenceHandler('orders.created')
  handle(): void {
    return undefined;
  }
}

@IntelligenceNode({ name: 'observed', kind: 'effect', version: '1' })
@Injectable()
class ObservedNode {
  @IntelligenceHandler('onex.cmd.test.observe.v1', { operationEvents: true })
  handle(): void {
    return undefined;
  }
}

describe('handler discovery', () => {
  let app: TestingModule | undefined;
  const boot = async (providers: object[], options: Partial<IntelligenceModuleOptions> = {}) => {
    const bus = new FaultyBus();
    app = await compileIntelligenceApp(
      {
        serviceName: 'discovery',
        bus,
        introspection: { enabled: false },
        wiring: { retry: false },
        ...options,
      },
      { providers: providers as never[] },
    );
    await app.init();
    return { app, bus, runtime: app.get(IntelligenceRuntime) };
  };

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('dispatches @EventPattern methods with the payload and a dispatch context', async () => {
    const { bus, runtime } = await boot([LegacyKafkaController]);
    expect(runtime.status().lastResult?.topics).toEqual([LEGACY]);
    const envelope = createEnvelope({ topic: LEGACY, payload: { order: 'o-1' } });
    await bus.publish(LEGACY, toOutgoing(envelope));
    await waitFor(() => bus.envelopes(LEGACY_OUT).length === 1, 'acknowledged');
    expect(app?.get(LegacyKafkaController).seen).toEqual([{ order: 'o-1' }]);
    expect(bus.envelopes(LEGACY_OUT)[0]).toMatchObject({ correlation_id: envelope.correlation_id });
  });

  it('refuses request-scoped handler classes with a clear reason', async () => {
    const { runtime } = await boot([RequestScopedNode]);
    expect(runtime.status().lastResult?.error).toMatch(
      /HandlerDiscoveryError: RequestScopedNode is request-scoped or transient/,
    );
  });

  it('refuses a handler registered twice for the same route', async () => {
    const { runtime } = await boot([DuplicateRoutes]);
    expect(runtime.status().lastResult?.error).toMatch(
      /Duplicate route: DuplicateRoutes.handle ← onex.evt.x.dup.v1/,
    );
  });

  it('warns about, rejects, or ignores topics not of the platform form', async () => {
    const logs = captureLogs();
    const bootWith = async (topicValidation: 'warn' | 'reject' | 'off') => {
      await app?.close();
      logs.lines.length = 0;
      app = await compileIntelligenceApp(
        {
          serviceName: 'discovery',
          bus: new FaultyBus(),
          dispatch: { topicValidation },
          wiring: { retry: false },
        },
        { providers: [OddTopicHandler], logger: logs.logger },
      );
      await app.init();
      return app.get(IntelligenceRuntime).status();
    };
    try {
      expect((await bootWith('warn')).state).toBe('wired');
      expect(
        logs.lines.filter((line) => line.startsWith('warn') && line.includes('orders.created')),
      ).toHaveLength(1);
      expect((await bootWith('off')).state).toBe('wired');
      expect(logs.lines.some((line) => line.includes('orders.created'))).toBe(false);
      expect((await bootWith('reject')).lastResult?.error).toMatch(
        /HandlerDiscoveryError: .*orders\.created/,
      );
    } finally {
      logs.restore();
    }
  });

  it('publishes operation started and completed events for routes that ask for them', async () => {
    const { bus } = await boot([ObservedNode]);
    const topic = 'onex.cmd.test.observe.v1';
    const envelope = createEnvelope({ topic, payload: {} });
    await bus.publish(topic, toOutgoing(envelope));
    const { started, completed } = operationTopics('discovery');
    await waitFor(() => bus.envelopes(completed).length === 1, 'completed');
    expect(bus.envelopes(started)[0]).toMatchObject({
      correlation_id: envelope.correlation_id,
      causation_id: envelope.envelope_id,
      payload: { handler: 'ObservedNode.handle', node: 'observed', status: 'started' },
    });
    expect(bus.envelopes(completed)[0]).toMatchObject({
      payload: { status: 'succeeded', attempt: 1, duration_ms: expect.any(Number) },
    });
  });
});
