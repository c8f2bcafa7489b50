import { describe, expect, it, jest } from '@jest/globals';

jest.unstable_mockModule('@opentelemetry/api', () => {
  throw Object.assign(new Error("Cannot find package '@opentelemetry/api'"), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
});

const { MessageTracing } = await import('../../../src/intelligence/tracing/message-tracing.js');

describe('MessageTracing without @opentelemetry/api installed', () => {
  it('loads as the no-op', async () => {
    const tracing = await MessageTracing.load(true);
    expect(tracing).toBe(MessageTracing.disabled);
    const headers = { correlation_id: 'c1' };
    expect(tracing.injectPublish('onex.evt.test.done.v1', headers, undefined).headers).toBe(
      headers,
    );
  });
});
