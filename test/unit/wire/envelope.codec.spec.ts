import { describe, expect, it } from '@jest/globals';
import type { BusMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import { decodeMessage } from '../../../src/intelligence/wire/envelope.codec.js';
import { createEnvelope, toOutgoing } from '../../../src/intelligence/wire/envelope.js';
import { parseTopic, topicCategory } from '../../../src/intelligence/wire/topic-name.js';

const TOPIC = 'onex.cmd.omniintelligence.pattern-learning.v1';
const UUID = '6f1c9a52-3d1e-4a4b-9c2f-0e8b5d7a1c33';

function message(value: Buffer | string | null, headers: Record<string, string> = {}): BusMessage {
  return {
    topic: TOPIC,
    partition: 2,
    offset: '41',
    timestamp: '1700000000000',
    key: null,
    value: typeof value === 'string' ? Buffer.from(value) : value,
    headers,
  };
}

describe('decodeMessage', () => {
  it('decodes a platform envelope into the handler event', () => {
    const envelope = createEnvelope({
      topic: TOPIC,
      payload: { session_id: 's-1' },
      causationId: UUID,
    });
    const outgoing = toOutgoing(envelope);
    const result = decodeMessage(message(outgoing.value, outgoing.headers));
    expect(result).toEqual({
      ok: true,
      event: expect.objectContaining({
        payload: { session_id: 's-1' },
        eventType: 'pattern-learning',
        category: 'command',
        envelopeId: envelope.envelope_id,
        correlationId: envelope.correlation_id,
        causationId: UUID,
        topic: TOPIC,
        partition: 2,
        offset: '41',
      }),
    });
  });

  it('takes a bare JSON object as the payload, with its UUID correlation id', () => {
    const result = decodeMessage(
      message(JSON.stringify({ correlation_id: UUID, session_id: 's-2' })),
    );
    expect(result.ok && result.event).toMatchObject({
      payload: { correlation_id: UUID, session_id: 's-2' },
      correlationId: UUID,
      eventType: 'pattern-learning',
      causationId: null,
    });
  });

  it.each([
    [UUID.toUpperCase(), true],
    [`${UUID.slice(0, 8)}_${UUID.slice(9)}`, false],
    [`${UUID.slice(0, 35)}g`, false],
    [`${UUID}0`, false],
  ])("takes a body correlation id %s as the event's only when it is a UUID (%s)", (id, taken) => {
    const result = decodeMessage(message(JSON.stringify({ correlation_id: id })));
    expect(result.ok && result.event.correlationId === id).toBe(taken);
  });

  it('gives a bare payload an envelope id derived from its position, the same on redelivery', () => {
    const body = JSON.stringify({ session_id: 's' });
    const first = decodeMessage(message(body));
    const again = decodeMessage(message(body));
    const elsewhere = decodeMessage({ ...message(body), offset: '42' });
    expect(first.ok && again.ok && first.event.envelopeId === again.event.envelopeId).toBe(true);
    expect(first.ok && elsewhere.ok && first.event.envelopeId !== elsewhere.event.envelopeId).toBe(
      true,
    );
  });

  it('starts a correlation at a bare payload that has no UUID one: its envelope id, on every redelivery', () => {
    const body = JSON.stringify({ correlation_id: 'not-a-uuid' });
    const result = decodeMessage(message(body));
    const again = decodeMessage(message(body));
    expect(result.ok && result.event.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.ok && result.event.correlationId).toBe(result.ok && result.event.envelopeId);
    expect(again.ok && again.event.correlationId).toBe(result.ok && result.event.correlationId);
  });

  it('stamps a bare payload with its broker timestamp in ISO-8601, message by message', () => {
    const at = (ms: number) => decodeMessage({ ...message('{}'), timestamp: String(ms) });
    const first = at(Date.UTC(2026, 11, 2, 6, 0, 0, 1));
    const same = at(Date.UTC(2026, 11, 2, 6, 0, 0, 1));
    const next = at(Date.UTC(2026, 11, 2, 6, 0, 0, 2));
    expect(first.ok && first.event.timestamp).toBe('2026-12-02T06:00:00.001Z');
    expect(same.ok && same.event.timestamp).toBe('2026-12-02T06:00:00.001Z');
    expect(next.ok && next.event.timestamp).toBe('2026-12-02T06:00:00.002Z');
  });

  it('takes a real U+FFFD in valid UTF-8 as text, and a lone invalid byte as bad_utf8', () => {
    const real = decodeMessage(message(Buffer.from('{"note":"\uFFFD ok"}', 'utf8')));
    expect(real.ok && real.event.payload).toEqual({ note: '\uFFFD ok' });
    const invalid = Buffer.concat([
      Buffer.from('{"note":"\uFFFD'),
      Buffer.from([0xc3]),
      Buffer.from('"}'),
    ]);
    expect(decodeMessage(message(invalid))).toMatchObject({ ok: false, reason: 'bad_utf8' });
  });

  it.each([
    ['empty', null],
    ['bad_utf8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ['bad_json', '{"session_id": '],
    ['not_an_object', '[1,2,3]'],
    [
      'invalid_envelope',
      JSON.stringify({
        envelope_id: 'e',
        payload: {},
        event_type: '',
        correlation_id: UUID,
        timestamp: 't',
      }),
    ],
  ])('rejects %s as permanently invalid', (reason, value) => {
    expect(decodeMessage(message(value))).toMatchObject({ ok: false, reason });
  });

  it.each([
    ['a bare word', 'canary-pw-XYZ', /^invalid JSON: unexpected token \(13 characters\)$/],
    ['a bad value mid-object', '{"a": canary-pw-XYZ}', /^invalid JSON: unexpected token/],
    ['a cut-off object', '{"secret": "canary-pw-XYZ"', /^invalid JSON at position 26 of 26$/],
    ['trailing text', '{"a": 1} canary-pw-XYZ', /^invalid JSON at position 9 of 22$/],
  ])('describes bad JSON by kind and position, never by its text: %s', (_, value, detail) => {
    const result = decodeMessage(message(value));
    expect(result).toMatchObject({ ok: false, reason: 'bad_json', detail });
    expect(JSON.stringify(result)).not.toContain('canary');
  });

  it('rejects an envelope whose category differs from the topic', () => {
    const envelope = createEnvelope({ topic: 'onex.evt.x.y.v1', payload: {} });
    expect(decodeMessage(message(JSON.stringify(envelope)))).toMatchObject({
      ok: false,
      reason: 'category_mismatch',
    });
  });

  it('rejects an envelope whose correlation header disagrees with it', () => {
    const envelope = createEnvelope({ topic: TOPIC, payload: {} });
    expect(
      decodeMessage(message(JSON.stringify(envelope), { correlation_id: UUID })),
    ).toMatchObject({
      ok: false,
      reason: 'invalid_envelope',
    });
  });
});

describe('envelopes and topics', () => {
  it('writes headers that agree with the envelope', () => {
    const envelope = createEnvelope({ topic: TOPIC, payload: { a: 1 }, eventType: 'custom' });
    const outgoing = toOutgoing(envelope);
    expect(outgoing.headers).toEqual({
      correlation_id: envelope.correlation_id,
      event_type: 'custom',
      content_type: 'application/json',
    });
    expect(outgoing.key).toBe(envelope.correlation_id);
    expect(JSON.parse(outgoing.value as string)).toMatchObject({
      metadata: { tags: { message_category: 'command' } },
      retry_count: 0,
      timestamp: expect.stringMatching(/Z$/),
    });
  });

  it('parses platform topic names and their categories', () => {
    expect(parseTopic('onex.evt.omniintelligence.pattern-learned.v2')).toEqual({
      kind: 'evt',
      producer: 'omniintelligence',
      eventName: 'pattern-learned',
      version: 2,
    });
    expect(parseTopic('orders.created')).toBeUndefined();
    expect(parseTopic('onex.evt.Upper.case.v1')).toBeUndefined();
    expect(topicCategory('onex.intent.x.y.v1')).toBe('intent');
    expect(topicCategory('onex.cmd.x.y.v1')).toBe('command');
  });
});
