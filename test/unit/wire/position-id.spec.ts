import { describe, expect, it } from '@jest/globals';
import { validate, version } from 'uuid';
import { positionId } from '../../../src/intelligence/wire/position-id.js';

const TOPIC = 'onex.evt.platform.session-started.v1';

describe('positionId', () => {
  it('is a valid version 8 UUID, the same for the same position', () => {
    const id = positionId(TOPIC, 3, '1234567');
    expect(validate(id)).toBe(true);
    expect(version(id)).toBe(8);
    expect(positionId(TOPIC, 3, '1234567')).toBe(id);
  });

  it('differs when the topic, the partition or the offset differs', () => {
    const ids = new Set<string>();
    for (const topic of [TOPIC, 'onex.evt.platform.session-ended.v1'])
      for (let partition = 0; partition < 20; partition++)
        for (let offset = 0; offset < 50; offset++)
          ids.add(positionId(topic, partition, String(offset)));
    expect(ids.size).toBe(2 * 20 * 50);
  });

  it('keeps positions past its fields apart with a hash, still a version 8 UUID', () => {
    const far = ['281474976710656', '9223372036854775807'].map((offset) =>
      positionId(TOPIC, 0, offset),
    );
    const wide = positionId(TOPIC, 16_384, '0');
    for (const id of [...far, wide]) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(8);
    }
    expect(new Set([...far, wide, positionId(TOPIC, 0, '0')]).size).toBe(4);
  });
});
