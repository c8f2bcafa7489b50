import type { OutgoingMessage } from './bus-message.interface.js';

export function toBuffer(data: string | Buffer): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}

export function keyBuffer(key: OutgoingMessage['key']): Buffer | null {
  return key === undefined || key === null ? null : toBuffer(key);
}

/** FNV-1a over the key bytes: a stable partition for a key. */
export function partitionForKey(key: Buffer, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of key) hash = Math.imul(hash ^ byte, 0x01000193);
  return (hash >>> 0) % partitions;
}
