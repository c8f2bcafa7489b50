// Parts 1 and 2 of the consumer-core benchmark, both on KafkaEventBus + MessageDelivery +
// DispatchEngine subscribed the way IntelligenceRuntime subscribes:
//   1) slow partition: the fast partitions' throughput while partition 0's handler is slow,
//      against the same data with partition 0 instant;
//   2) poison mix: throughput with ~3% poison (dead-lettered for real) against a clean run.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEAD_LETTER_TOPICS, PermanentHandlerError } from '../../dist/intelligence/index.js';
import { formatMs, formatRate, formatRatio, median, perSecond } from './bench-stats.mjs';
import { createDispatch, exposeGc, makeEnvelopes } from './dispatch-fixtures.mjs';
import { phase } from './dispatch-kafka.mjs';
import {
  boundedClose,
  createSeqTracker,
  createTopic,
  ENVELOPE_TOPIC,
  freshGroup,
  preload,
  rotated,
  SEQ_HEADER,
  until,
} from './consumer-core-common.mjs';

const PARTITIONS = 6;
const SLOW_PARTITION = 0;
const DEAD_LETTER_TOPIC = DEAD_LETTER_TOPICS.event;
/** Poison kinds by `seq % 100`: 3 in every 100 messages. */
const POISON_BY_REMAINDER = new Map([
  [33, 'bad_utf8'],
  [66, 'bad_json'],
  [99, 'permanent'],
]);
/** The dead letter's `failure_class` header each poison kind must get. */
const FAILURE_CLASS = {
  bad_utf8: 'InvalidMessage:bad_utf8',
  bad_json: 'InvalidMessage:bad_json',
  permanent: 'PermanentHandlerError',
};
const fullGc = exposeGc();

/** Each side starts on a collected heap, so it does not pay for the garbage of the one before. */
async function collected() {
  fullGc();
  await sleep(10);
}

/**
 * Event-loop delay while a side consumes (diagnostic: handlers that chain through microtasks
 * without yielding delay timers, e.g. the slow partition's 20 ms sleeps, and heartbeats).
 */
function loopDelayMonitor() {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return () => {
    histogram.disable();
    const ms = (ns) => Math.round(ns / 1e5) / 10;
    return {
      p50: ms(histogram.percentile(50)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
    };
  };
}

/** The subscribe options IntelligenceRuntime passes, from the resolved module config. */
function runtimeSubscribeOptions(config) {
  return {
    fromBeginning: config.dispatch.startFrom === 'earliest',
    concurrency: config.dispatch.concurrency,
    redelivery: config.dispatch.backoff,
    drainTimeoutMs: config.shutdown.drainTimeoutMs,
  };
}

/** Subscribes `dispatch.delivery` exactly as the module does; returns the subscription. */
function subscribeDelivery(clients, topic, side, dispatch) {
  return clients.bus.subscribe(
    [topic],
    freshGroup(topic, side),
    (message) => dispatch.delivery.deliver(message),
    runtimeSubscribeOptions(clients.config),
  );
}

function withSeqHeader(outgoing, seq) {
  return { ...outgoing, headers: { ...outgoing.headers, [SEQ_HEADER]: String(seq) } };
}

/** Fails on any outcome but success, and on any retry, dead letter or drop. */
function expectOnlySuccesses(label, dispatch) {
  const { outcomes } = dispatch.engine.metrics();
  const stats = dispatch.delivery.stats();
  const other = Object.entries(outcomes).filter(([name, n]) => name !== 'success' && n > 0);
  const problems = [];
  if (other.length > 0) problems.push(`outcomes ${JSON.stringify(outcomes)}`);
  if (stats.retried > 0 || stats.deadLettered > 0 || stats.dropped > 0) {
    problems.push(`delivery stats ${JSON.stringify(stats)}`);
  }
  if (problems.length > 0) throw new Error(`${label}: ${problems.join('; ')}`);
}

// --- 1) slow partition ------------------------------------------------------------------------

/**
 * Seqs 0..slow-1 go to partition 0, then `fast` seqs to each of partitions 1..5, in seq order
 * (so each partition's offsets follow its seqs).
 */
export function slowPartitionData({ fastPerPartition, slowMessages }) {
  const fast = fastPerPartition * (PARTITIONS - 1);
  const total = slowMessages + fast;
  const messages = makeEnvelopes(ENVELOPE_TOPIC, total).map((outgoing, seq) => ({
    ...withSeqHeader(outgoing, seq),
    partition:
      seq < slowMessages ? SLOW_PARTITION : 1 + Math.floor((seq - slowMessages) / fastPerPartition),
  }));
  return { messages, slow: slowMessages, fast, total };
}

/**
 * One side of part 1: a fresh 6-partition topic preloaded with `data`, one member; returns the
 * fast partitions' first-to-last throughput. `slowMs` > 0: partition 0's handler awaits that long.
 */
async function runSlowSide(clients, data, slowMs, label) {
  const topic = await phase(`preload (${label})`, async () => {
    const created = await createTopic(clients, 'slow-partition', PARTITIONS);
    await preload(clients, created, data.messages);
    return created;
  });
  await collected();
  const seen = createSeqTracker(data.total);
  const run = { first: 0, last: 0, fastDistinct: 0, slowHandled: 0, slowAtLast: 0, bad: 0 };
  /** @type {(value?: unknown) => void} */
  let resolveDone = () => {};
  const done = new Promise((resolve) => {
    resolveDone = resolve;
  });
  const handle = async (payload) => {
    const seq = /** @type {{ seq?: unknown }} */ (payload)?.seq;
    if (typeof seq !== 'number') {
      run.bad += 1;
      return;
    }
    if (seq < data.slow) {
      if (slowMs > 0) await sleep(slowMs);
      seen.see(seq);
      run.slowHandled += 1;
      return;
    }
    const now = performance.now();
    if (run.first === 0) run.first = now;
    if (seen.see(seq)) {
      run.fastDistinct += 1;
      if (run.fastDistinct === data.fast) {
        run.last = now;
        run.slowAtLast = run.slowHandled;
        resolveDone();
      }
    }
  };
  const dispatch = createDispatch(topic, handle, clients.bus, clients.config);
  const started = performance.now();
  const stopMonitor = loopDelayMonitor();
  const subscription = await phase(`subscribe (${label})`, () =>
    subscribeDelivery(clients, topic, slowMs > 0 ? 'slow' : 'instant', dispatch),
  );
  let closeMs;
  let loopDelayMs;
  try {
    await phase(`consume (${label})`, () => done);
  } finally {
    loopDelayMs = stopMonitor();
    const closing = performance.now();
    await boundedClose(label, () => subscription.close());
    closeMs = performance.now() - closing;
  }
  if (run.bad > 0) throw new Error(`${label}: ${run.bad} payloads without a numeric seq`);
  expectOnlySuccesses(label, dispatch);
  const ms = run.last - run.first;
  return {
    topic,
    fastMessages: data.fast,
    ms,
    rate: perSecond(data.fast, ms),
    firstAfterSubscribeMs: run.first - started,
    slowHandledAtLastFast: run.slowAtLast,
    slowBusyThroughout: run.slowAtLast < data.slow,
    duplicates: seen.duplicates,
    closeMs,
    loopDelayMs,
  };
}

export async function runSlowPartition(clients, settings) {
  const { rounds, fastPerPartition, slowMessages, slowMs } = settings;
  console.log('\n=== 1) Slow partition: fast partitions with partition 0 slow vs instant ===');
  console.log(
    `  topic:    fresh, ${PARTITIONS} partitions per side per round; partitions 1..5 hold ` +
      `${fastPerPartition} envelopes each, partition 0 holds ${slowMessages}`,
  );
  console.log(
    `  handler:  instant on partitions 1..5; partition 0 awaits ${slowMs} ms per message ` +
      `(with-slow side) or is instant (baseline); one member`,
  );
  console.log(`  measured: first to last FAST message; rounds R=${rounds}, order rotating`);
  const data = slowPartitionData({ fastPerPartition, slowMessages });
  const sides = [
    { name: 'withSlow', slowMs },
    { name: 'withoutSlow', slowMs: 0 },
  ];
  const results = [];
  for (let round = 1; round <= rounds; round++) {
    const order = rotated(sides, round);
    const samples = {};
    for (const side of order) {
      samples[side.name] = await runSlowSide(
        clients,
        data,
        side.slowMs,
        `slow partition, ${side.name}, round ${round}`,
      );
    }
    const ratio = samples.withSlow.rate / samples.withoutSlow.rate;
    results.push({ round, first: order[0].name, ...samples, ratio });
    const { withSlow, withoutSlow } = samples;
    console.log(
      `  round ${round}/${rounds} (${order[0].name} first): fast msgs with slow ` +
        `${formatRate(withSlow.rate)} msg/s (${formatMs(withSlow.ms)}), without ` +
        `${formatRate(withoutSlow.rate)} msg/s (${formatMs(withoutSlow.ms)}), ratio ` +
        `${formatRatio(ratio)}; slow partition handled ${withSlow.slowHandledAtLastFast}/` +
        `${slowMessages} at the last fast message; duplicates ${withSlow.duplicates}/` +
        `${withoutSlow.duplicates}; event-loop delay p99 ${withSlow.loopDelayMs.p99}/` +
        `${withoutSlow.loopDelayMs.p99} ms`,
    );
    if (!withSlow.slowBusyThroughout) {
      console.log('    note: partition 0 finished before the fast partitions did this round');
    }
  }
  return {
    settings: { partitions: PARTITIONS, fastPerPartition, slowMessages, slowMs, rounds },
    rounds: results,
    library: median(results.map((r) => r.withSlow.rate)),
    baseline: median(results.map((r) => r.withoutSlow.rate)),
    ratio: median(results.map((r) => r.ratio)),
  };
}

// --- 2) poison mix ----------------------------------------------------------------------------

/** @returns {'bad_utf8' | 'bad_json' | 'permanent' | undefined} */
function poisonKind(seq) {
  return POISON_BY_REMAINDER.get(seq % 100);
}

/** The clean envelopes, and the same with every 100 seqs' 33rd/66th/99th made poison. */
export function poisonData(count) {
  const clean = makeEnvelopes(ENVELOPE_TOPIC, count).map(withSeqHeader);
  const poisoned = clean.map((message, seq) => {
    const kind = poisonKind(seq);
    const length = Buffer.byteLength(message.value);
    if (kind === 'bad_utf8') return { ...message, value: Buffer.alloc(length, 0xfe) };
    if (kind === 'bad_json') {
      return { ...message, value: `not json: seq ${seq} `.padEnd(length, 'x') };
    }
    return message;
  });
  const byKind = { bad_utf8: 0, bad_json: 0, permanent: 0 };
  for (let seq = 0; seq < count; seq++) {
    const kind = poisonKind(seq);
    if (kind) byKind[kind] += 1;
  }
  const poison = byKind.bad_utf8 + byKind.bad_json + byKind.permanent;
  return { clean, poisoned, count, byKind, poison };
}

/** Sum of the dead-letter topic's high watermarks. */
async function deadLetterEnd(clients) {
  const offsets = await clients.admin.fetchTopicOffsets(DEAD_LETTER_TOPIC);
  return offsets.reduce((sum, { high }) => sum + Number(high), 0);
}

/**
 * Reads the whole dead-letter topic up to its current end with a fresh plain kafkajs group and
 * returns the dead letters whose `original_topic` is `topic`: seq, failure class.
 */
async function readDeadLetters(clients, topic) {
  const offsets = await clients.admin.fetchTopicOffsets(DEAD_LETTER_TOPIC);
  const position = new Map(offsets.map(({ partition, low }) => [partition, Number(low)]));
  const end = new Map(offsets.map(({ partition, high }) => [partition, Number(high)]));
  const consumer = clients.kafka.consumer({
    groupId: freshGroup(topic, 'dlq-check'),
    maxWaitTimeInMs: 100,
  });
  /** @type {{ seq: number, failureClass: string }[]} */
  const letters = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [DEAD_LETTER_TOPIC], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        position.set(partition, Number(message.offset) + 1);
        const header = (name) => message.headers?.[name]?.toString();
        if (header('original_topic') !== topic) return;
        letters.push({
          seq: Number(header(SEQ_HEADER)),
          failureClass: header('failure_class') ?? '(none)',
        });
      },
    });
    await until(() => [...end].every(([partition, high]) => position.get(partition) >= high), 20);
  } finally {
    await boundedClose('dead-letter check consumer', () => consumer.disconnect());
  }
  return letters;
}

/** Fails unless the dead letters of `topic` are exactly the poison seqs, once each, right class. */
function checkDeadLetters(label, data, letters) {
  const seen = createSeqTracker(data.count);
  const wrong = [];
  for (const { seq, failureClass } of letters) {
    const kind = poisonKind(seq);
    if (!kind || FAILURE_CLASS[kind] !== failureClass) wrong.push(`${seq}:${failureClass}`);
    seen.see(seq);
  }
  const missing = seen.missing((seq) => poisonKind(seq) !== undefined);
  const problems = [];
  if (missing.length > 0) problems.push(`${missing.length} poison seqs never dead-lettered`);
  if (wrong.length > 0) problems.push(`unexpected dead letters ${wrong.slice(0, 5).join(', ')}`);
  if (seen.outOfRange > 0) problems.push(`${seen.outOfRange} dead letters without a bench seq`);
  if (problems.length > 0) throw new Error(`${label}: ${problems.join('; ')}`);
  return { deadLetters: letters.length, duplicates: seen.duplicates };
}

/**
 * One side of part 2: a fresh 6-partition topic with `poisoned` or clean data. Ends when every
 * good message was handled and `delivery.stats().deadLettered` reached the poison count (polled
 * every 5 ms on both sides). Then the seqs are checked: every good one handled, every poison
 * one in the dead-letter topic with its failure class; duplicates are counted.
 */
async function runPoisonSide(clients, data, poisoned, label) {
  const topic = await phase(`preload (${label})`, async () => {
    const created = await createTopic(clients, 'poison-mix', PARTITIONS);
    await preload(clients, created, poisoned ? data.poisoned : data.clean);
    return created;
  });
  const deadLettersBefore = await deadLetterEnd(clients);
  await collected();
  const expectedDead = poisoned ? data.poison : 0;
  const expectedGood = data.count - expectedDead;
  const calls = createSeqTracker(data.count);
  const run = { first: 0, lastGood: 0, good: 0, bad: 0 };
  const handle = async (payload) => {
    const seq = /** @type {{ seq?: unknown }} */ (payload)?.seq;
    const now = performance.now();
    if (run.first === 0) run.first = now;
    if (typeof seq !== 'number') {
      run.bad += 1;
      return;
    }
    const firstCall = calls.see(seq);
    if (poisoned && poisonKind(seq) === 'permanent') {
      throw new PermanentHandlerError(`bench poison seq ${seq}`);
    }
    if (firstCall) {
      run.good += 1;
      if (run.good === expectedGood) run.lastGood = now;
    }
  };
  const dispatch = createDispatch(topic, handle, clients.bus, clients.config);
  const stopMonitor = loopDelayMonitor();
  const subscription = await phase(`subscribe (${label})`, () =>
    subscribeDelivery(clients, topic, poisoned ? 'poison' : 'clean', dispatch),
  );
  let deadLetteredAt = expectedDead === 0 ? 0 : undefined;
  let loopDelayMs;
  try {
    await phase(`consume (${label})`, async () => {
      for (;;) {
        if (
          deadLetteredAt === undefined &&
          dispatch.delivery.stats().deadLettered >= expectedDead
        ) {
          deadLetteredAt = performance.now();
        }
        if (deadLetteredAt !== undefined && run.good >= expectedGood) return;
        await sleep(5);
      }
    });
  } finally {
    loopDelayMs = stopMonitor();
    await boundedClose(label, () => subscription.close());
  }
  if (run.bad > 0) throw new Error(`${label}: ${run.bad} payloads without a numeric seq`);
  const stats = dispatch.delivery.stats();
  const last = Math.max(run.lastGood, deadLetteredAt ?? 0);
  const ms = last - run.first;
  const missing = calls.missing(
    (seq) => !poisoned || poisonKind(seq) === undefined || poisonKind(seq) === 'permanent',
  );
  if (missing.length > 0) throw new Error(`${label}: ${missing.length} seqs never handled`);
  if (stats.deadLettered !== expectedDead || stats.retried > 0 || stats.dropped > 0) {
    throw new Error(`${label}: delivery stats ${JSON.stringify(stats)}, expected ${expectedDead}`);
  }
  let deadLetterCheck = { deadLetters: 0, duplicates: 0 };
  if (poisoned) {
    const letters = await phase(`dead-letter check (${label})`, () =>
      readDeadLetters(clients, topic),
    );
    deadLetterCheck = checkDeadLetters(label, data, letters);
  } else {
    const added = (await deadLetterEnd(clients)) - deadLettersBefore;
    if (added !== 0) throw new Error(`${label}: the clean run added ${added} dead letters`);
  }
  return {
    topic,
    messages: data.count,
    poison: expectedDead,
    ms,
    rate: perSecond(data.count, ms),
    lastGoodMs: run.lastGood - run.first,
    deadLettersConfirmedMs: deadLetteredAt === 0 ? 0 : (deadLetteredAt ?? 0) - run.first,
    handlerDuplicates: calls.duplicates,
    deadLetters: deadLetterCheck.deadLetters,
    deadLetterDuplicates: deadLetterCheck.duplicates,
    deadLetterFailures: stats.deadLetterFailures,
    outcomes: dispatch.engine.metrics().outcomes,
    loopDelayMs,
  };
}

export async function runPoisonMix(clients, settings) {
  const { rounds, messages } = settings;
  const data = poisonData(messages);
  console.log('\n=== 2) Poison mix: ~3% poison dead-lettered vs a clean run ===');
  console.log(
    `  topic:    fresh, ${PARTITIONS} partitions per side per round, ${messages} messages ` +
      'keyed by correlation id',
  );
  console.log(
    `  poison:   ${data.poison} (${data.byKind.bad_utf8} not UTF-8, ${data.byKind.bad_json} ` +
      `not JSON, ${data.byKind.permanent} PermanentHandlerError) → ${DEAD_LETTER_TOPIC} ` +
      'through MessageDelivery',
  );
  console.log(
    '  measured: first handler call to the last good message handled and ' +
      'delivery.stats().deadLettered = poison count (polled every 5 ms), all messages counted',
  );
  console.log(`  rounds:   R=${rounds}, order rotating; seqs checked per side`);
  await clients.bus.ensureTopics([{ topic: DEAD_LETTER_TOPIC }]);
  const sides = [
    { name: 'poisoned', poisoned: true },
    { name: 'clean', poisoned: false },
  ];
  const results = [];
  for (let round = 1; round <= rounds; round++) {
    const order = rotated(sides, round);
    const samples = {};
    for (const side of order) {
      samples[side.name] = await runPoisonSide(
        clients,
        data,
        side.poisoned,
        `poison mix, ${side.name}, round ${round}`,
      );
    }
    const ratio = samples.poisoned.rate / samples.clean.rate;
    results.push({ round, first: order[0].name, ...samples, ratio });
    const { poisoned, clean } = samples;
    console.log(
      `  round ${round}/${rounds} (${order[0].name} first): poisoned ` +
        `${formatRate(poisoned.rate)} msg/s (${formatMs(poisoned.ms)}; good done at ` +
        `${formatMs(poisoned.lastGoodMs)}, dead letters confirmed at ` +
        `${formatMs(poisoned.deadLettersConfirmedMs)}), clean ${formatRate(clean.rate)} msg/s ` +
        `(${formatMs(clean.ms)}), ratio ${formatRatio(ratio)}; dead letters ` +
        `${poisoned.deadLetters}/${data.poison}, duplicates handler ` +
        `${poisoned.handlerDuplicates}/${clean.handlerDuplicates}, dead letters ` +
        `${poisoned.deadLetterDuplicates}`,
    );
  }
  return {
    settings: { partitions: PARTITIONS, messages, poison: data.byKind, rounds },
    deadLetterTopic: DEAD_LETTER_TOPIC,
    rounds: results,
    library: median(results.map((r) => r.poisoned.rate)),
    baseline: median(results.map((r) => r.clean.rate)),
    ratio: median(results.map((r) => r.ratio)),
  };
}

/** Untimed: both parts once at a small size (JIT, the offsets topic, the dead-letter topic). */
export async function warmUpThroughput(clients) {
  await clients.bus.ensureTopics([{ topic: DEAD_LETTER_TOPIC }]);
  const slow = slowPartitionData({ fastPerPartition: 400, slowMessages: 20 });
  await runSlowSide(clients, slow, 0, 'warm-up slow partition');
  await runPoisonSide(clients, poisonData(2_000), true, 'warm-up poison mix');
}
