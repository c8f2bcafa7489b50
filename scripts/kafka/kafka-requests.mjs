// Two Kafka requests kafkajs does not offer, sent on the wire protocol: DescribeQuorum (the
// active controller of a KRaft cluster) and FindCoordinator (a group's coordinator). Used by
// scripts/kafka/cluster.mjs.
import { connect } from 'node:net';

// Both use flexible versions: request header v2, response header v1 (schemas:
// clients/src/main/resources/common/message/{DescribeQuorum,FindCoordinator}*.json).

const API_FIND_COORDINATOR = 10;
const API_DESCRIBE_QUORUM = 55;

/** Builder of a request body. */
class Writer {
  /** @type {Buffer[]} */
  parts = [];

  /** @param {number} value */
  int8(value) {
    const b = Buffer.alloc(1);
    b.writeInt8(value);
    this.parts.push(b);
    return this;
  }

  /** @param {number} value */
  int16(value) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(value);
    this.parts.push(b);
    return this;
  }

  /** @param {number} value */
  int32(value) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    this.parts.push(b);
    return this;
  }

  /** @param {number} value */
  uvarint(value) {
    /** @type {number[]} */
    const bytes = [];
    let v = value >>> 0;
    while (v >= 0x80) {
      bytes.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    bytes.push(v);
    this.parts.push(Buffer.from(bytes));
    return this;
  }

  /** @param {string} value non-compact (header's client id) */
  string(value) {
    const b = Buffer.from(value, 'utf8');
    return this.int16(b.length).raw(b);
  }

  /** @param {string} value */
  compactString(value) {
    const b = Buffer.from(value, 'utf8');
    return this.uvarint(b.length + 1).raw(b);
  }

  /** @param {number} length */
  compactArray(length) {
    return this.uvarint(length + 1);
  }

  noTags() {
    return this.uvarint(0);
  }

  /** @param {Buffer} b */
  raw(b) {
    this.parts.push(b);
    return this;
  }

  toBuffer() {
    return Buffer.concat(this.parts);
  }
}

/** Reader of a response body. */
class Reader {
  /** @param {Buffer} buf */
  constructor(buf) {
    this.buf = buf;
    this.at = 0;
  }

  int16() {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }

  int32() {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  int64() {
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return Number(v);
  }

  uvarint() {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = /** @type {number} */ (this.buf[this.at++]);
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
      shift += 7;
    }
  }

  /** @returns {string | null} */
  compactString() {
    const n = this.uvarint();
    if (n === 0) return null;
    const s = this.buf.toString('utf8', this.at, this.at + n - 1);
    this.at += n - 1;
    return s;
  }

  /**
   * @template T
   * @param {() => T} item
   * @returns {T[]}
   */
  compactArray(item) {
    const n = this.uvarint();
    return Array.from({ length: Math.max(0, n - 1) }, () => item());
  }

  skipTags() {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.at += this.uvarint();
    }
  }
}

let correlationId = 0;

/**
 * Sends one request (flexible version) to `address`, resolves with the response body.
 * @param {string} address host:port
 * @param {number} apiKey
 * @param {number} apiVersion
 * @param {Buffer} body
 * @param {number} [timeoutMs]
 * @returns {Promise<Reader>}
 */
function request(address, apiKey, apiVersion, body, timeoutMs = 5_000) {
  const [host, port] = address.split(':');
  const id = (correlationId = (correlationId + 1) % 0x7fffffff);
  const header = new Writer()
    .int16(apiKey)
    .int16(apiVersion)
    .int32(id)
    .string('kafka-cluster-script')
    .noTags()
    .toBuffer();
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port) });
    /** @type {Buffer[]} */
    const chunks = [];
    let received = 0;
    const fail = (/** @type {Error} */ err) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no response within ${timeoutMs} ms`)));
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed before a response')));
    socket.on('connect', () => socket.write(Buffer.concat([size, header, body])));
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
      const all = Buffer.concat(chunks);
      if (received < 4 || received < 4 + all.readInt32BE(0)) return;
      socket.removeAllListeners('close');
      socket.destroy();
      const reader = new Reader(all.subarray(4, 4 + all.readInt32BE(0)));
      if (reader.int32() !== id) {
        reject(new Error('response with a foreign correlation id'));
        return;
      }
      reader.skipTags();
      resolve(reader);
    });
  });
}

/**
 * DescribeQuorum v0 for __cluster_metadata-0.
 * @param {string} address a broker or controller listener
 * @param {number} [timeoutMs] default 5000
 * @returns {Promise<QuorumState & { errorCode: number }>}
 */
export async function describeQuorum(address, timeoutMs = 5_000) {
  const body = new Writer()
    .compactArray(1)
    .compactString('__cluster_metadata')
    .compactArray(1)
    .int32(0)
    .noTags()
    .noTags()
    .noTags()
    .toBuffer();
  const r = await request(address, API_DESCRIBE_QUORUM, 0, body, timeoutMs);
  const topError = r.int16();
  const replica = () => {
    const state = { id: r.int32(), logEndOffset: r.int64() };
    r.skipTags();
    return state;
  };
  const topics = r.compactArray(() => {
    const name = r.compactString();
    const partitions = r.compactArray(() => {
      const p = {
        partition: r.int32(),
        errorCode: r.int16(),
        leaderId: r.int32(),
        leaderEpoch: r.int32(),
        highWatermark: r.int64(),
        voters: r.compactArray(replica),
        observers: r.compactArray(replica),
      };
      r.skipTags();
      return p;
    });
    r.skipTags();
    return { name, partitions };
  });
  const p = topics[0]?.partitions[0];
  if (topError !== 0 || !p) {
    return {
      errorCode: topError,
      leaderId: -1,
      leaderEpoch: -1,
      highWatermark: -1,
      voters: [],
      observers: [],
    };
  }
  const { errorCode, leaderId, leaderEpoch, highWatermark, voters, observers } = p;
  return { errorCode, leaderId, leaderEpoch, highWatermark, voters, observers };
}

/**
 * FindCoordinator v3 for a consumer group.
 * @param {string} address a broker listener
 * @param {string} groupId
 * @param {number} [timeoutMs] default 5000
 * @returns {Promise<{ errorCode: number, nodeId: number, host: string | null, port: number }>}
 */
export async function findCoordinator(address, groupId, timeoutMs = 5_000) {
  const body = new Writer().compactString(groupId).int8(0).noTags().toBuffer();
  const r = await request(address, API_FIND_COORDINATOR, 3, body, timeoutMs);
  r.int32(); // throttle time
  const errorCode = r.int16();
  r.compactString(); // error message
  return { errorCode, nodeId: r.int32(), host: r.compactString(), port: r.int32() };
}
