import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { IntelligenceModule } from '../../src/intelligence/intelligence.module.js';
import {
  IntelligenceOptionsError,
  type IntelligenceModuleOptions,
} from '../../src/intelligence/intelligence.options.js';
import { validateIntelligenceOptions } from '../../src/intelligence/intelligence.options-validation.js';
import { InMemoryEventBus } from '../../src/intelligence/bus/in-memory-event-bus.js';

const bad: [string, unknown, string][] = [
  ['serviceName', { serviceName: 'Not Kebab' }, 'kebab-case'],
  ['bus.kind', { serviceName: 's', bus: { kind: 'rabbit' } }, "kind: 'memory'"],
  ['bus.brokers', { serviceName: 's', bus: { kind: 'kafka', brokers: [] } }, ''],
  [
    'bus.brokers.0',
    { serviceName: 's', bus: { kind: 'kafka', brokers: ['localhost'] } },
    'host:port',
  ],
  ['dispatch.maxAttempts', { serviceName: 's', dispatch: { maxAttempts: 0 } }, ''],
  [
    'introspection.heartbeatIntervalMs',
    { serviceName: 's', introspection: { heartbeatIntervalMs: -5 } },
    '',
  ],
  ['wiring.retry', { serviceName: 's', wiring: { retry: { initialMs: 50, maxMs: 10 } } }, 'maxMs'],
  ['dispatch.topicValidation', { serviceName: 's', dispatch: { topicValidation: 'loud' } }, ''],
  ['dispatch.handlerTimeoutMs', { serviceName: 's', dispatch: { handlerTimeoutMs: -1 } }, ''],
  ['instanceId', { serviceName: 's', instanceId: '' }, ''],
  [
    'dispatch.retry.mode',
    { serviceName: 's', dispatch: { retry: { mode: 'later' } } },
    "mode: 'topics', delaysMs",
  ],
  [
    'dispatch.retry.delaysMs',
    { serviceName: 's', dispatch: { retry: { mode: 'topics', delaysMs: [] } } },
    'at least one tier',
  ],
  [
    'dispatch.retry.delaysMs.1',
    { serviceName: 's', dispatch: { retry: { mode: 'topics', delaysMs: [1000, 0] } } },
    '',
  ],
  [
    'dispatch.retry.delaysMs.0',
    { serviceName: 's', dispatch: { retry: { mode: 'topics', delaysMs: [2 ** 31] } } },
    'longest timer Node.js can set',
  ],
  [
    'dispatch.backoff.maxMs',
    { serviceName: 's', dispatch: { backoff: { initialMs: 100, maxMs: 30 * 86_400_000 } } },
    'longest timer',
  ],
  [
    'shutdown.drainTimeoutMs',
    { serviceName: 's', shutdown: { drainTimeoutMs: Number.MAX_SAFE_INTEGER } },
    'longest timer',
  ],
  [
    'bus.sasl.password',
    {
      serviceName: 's',
      bus: { kind: 'kafka', brokers: ['b:9092'], sasl: { mechanism: 'plain', username: 'u' } },
    },
    'required with mechanism plain',
  ],
  [
    'bus.sasl.username',
    {
      serviceName: 's',
      bus: {
        kind: 'kafka',
        brokers: ['b:9092'],
        sasl: { mechanism: 'scram-sha-512', username: '', password: 'p' },
      },
    },
    'required',
  ],
];

describe('IntelligenceModule options', () => {
  it.each(bad)('names the bad field %s', (field, options, hint) => {
    let error: unknown;
    try {
      validateIntelligenceOptions(options as IntelligenceModuleOptions);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(IntelligenceOptionsError);
    expect((error as IntelligenceOptionsError).field).toBe(field);
    expect((error as Error).message).toContain(`"${field}"`);
    expect((error as Error).message).toContain(hint);
  });

  it('accepts the documented shapes, including a custom EventBus', () => {
    for (const options of [
      { serviceName: 'svc' },
      { serviceName: 'svc', bus: new InMemoryEventBus() },
      {
        serviceName: 'svc',
        bus: {
          kind: 'kafka',
          brokers: ['127.0.0.1:9092'],
          sasl: { mechanism: 'plain', username: 'u', password: 'p' },
        },
      },
      {
        serviceName: 'svc',
        wiring: { retry: false, failFast: true },
        dispatch: { deadLetter: { topic: 'dlq' } },
      },
    ]) {
      expect(() => {
        validateIntelligenceOptions(options as IntelligenceModuleOptions);
      }).not.toThrow();
    }
  });

  it('fails the app at boot with the readable error, through forRootAsync too', async () => {
    const compile = Test.createTestingModule({
      imports: [
        IntelligenceModule.forRootAsync({
          useFactory: () => Promise.resolve({ serviceName: 'svc', dispatch: { maxAttempts: 1.5 } }),
        }),
      ],
    }).compile();
    await expect(compile).rejects.toThrow(/"dispatch\.maxAttempts"/);
  });
});

describe('IntelligenceModule options: bus.client', () => {
  const kafka = (client: unknown) =>
    ({
      serviceName: 'svc',
      bus: { kind: 'kafka', brokers: ['127.0.0.1:9092'], client },
    }) as IntelligenceModuleOptions;

  it.each(['kafkajs', 'platformatic', undefined])('accepts client %s', (client) => {
    expect(() => {
      validateIntelligenceOptions(kafka(client));
    }).not.toThrow();
  });

  it.each(['rdkafka', 'KafkaJS', 42, null])(
    'names bus.client for %p and lists the clients',
    (client) => {
      let error: unknown;
      try {
        validateIntelligenceOptions(kafka(client));
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(IntelligenceOptionsError);
      expect((error as IntelligenceOptionsError).field).toBe('bus.client');
      expect((error as Error).message).toContain("'kafkajs'");
      expect((error as Error).message).toContain("'platformatic'");
    },
  );
});
