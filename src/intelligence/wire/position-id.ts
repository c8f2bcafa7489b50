import { createHash } from 'node:crypto';

/** Topics whose hash is remembered; more than this and the cache starts over. */
const MAX_CACHED_TOPICS = 1_000;
/** Largest partition and offset that fit the id's fields (14 and 48 bits). */
const MAX_PARTITION = 0x3fff;
const MAX_OFFSET = 0xffff_ffff_ffff;

/**
 * Per topic, per partition: the id up to the offset's group (`xxxxxxxx-xxxx-8xxx-pppp-`),
 * from the topic name's hash, the version nibble and the partition's group.
 */
const prefixes = new Map<string, string[]>();

/**
 * The stable id of a message position (`topic`, `partition`, `offset`), shaped as a UUID
 * version 8 (RFC 9562: custom layout): 60 bits of the topic name's SHA-1, the partition in
 * 14 bits and the offset in 48. Redeliveries of one message share it, two positions never do
 * (up to a topic-hash collision); computing it costs a hex format, not a hash per message.
 * A position past the fields (partition > 16383, offset ≥ 2^48) takes a SHA-1 of all of it.
 */
export function positionId(topic: string, partition: number, offset: string): string {
  const at = Number(offset);
  if (partition < 0 || partition > MAX_PARTITION || !(at >= 0 && at <= MAX_OFFSET)) {
    return hashedId(`${topic}/${String(partition)}/${offset}`);
  }
  return prefixOf(topic, partition) + at.toString(16).padStart(12, '0');
}

function prefixOf(topic: string, partition: number): string {
  let byPartition = prefixes.get(topic);
  if (byPartition === undefined) {
    if (prefixes.size >= MAX_CACHED_TOPICS) prefixes.clear();
    byPartition = [];
    prefixes.set(topic, byPartition);
  }
  let prefix = byPartition[partition];
  if (prefix === undefined) {
    const hex = createHash('sha1').update(topic).digest('hex');
    const partitionHex = (0x8000 | partition).toString(16);
    prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(12, 15)}-${partitionHex}-`;
    byPartition[partition] = prefix;
  }
  return prefix;
}

function hashedId(position: string): string {
  const hex = createHash('sha1').update(position).digest('hex');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
