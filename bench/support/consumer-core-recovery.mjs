// Part 3 of the consumer-core benchmark: recovery after a broker restart. A dedicated broker
// (started here, never the shared one) carries a steady trickle that two consumers in separate
// groups consume: KafkaEventBus (library defaults) and a plain kafkajs eachBatch consumer with
// the same session timeout. The broker is killed with SIGKILL, stays down a few seconds, and is
// restarted on the same data and ports; each side's time from "broker ready again" to the first
// message it consumed whose send began after that is measured.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker } from '../../scripts/kafka/broker.mjs';
import { formatMs, formatRatio, median, withTimeout } from './bench-stats.mjs';
import { startEachBatchConsumer } from './kafka-baseline.mjs';
import {
  boundedClose,
  BUS_DEFAULTS,
  createTopic,
  formatSeconds,
  freshGroup,
  libraryBus,
  rotated,
  until,
} from './consumer-core-common.mjs';

/** The library's `defaultPartitions`. */
const PARTITIONS = 3;
const KEYS = 10;
const BROKER_START_TIMEOUT_MS = 120_000;
const STEP_TIMEOUT_MS = 60_000;
/** Trickle producer: retries long enough to outlast the outage, reconnecting within ~1 s. */
const TRICKLE_RETRY = { retries: 100, initialRetryTime: 100, maxRetryTime: 1_000 };

/**
 * Sends one message at a time, `ratePerSecond` a second (a send that blocked is not made up
 * for with a burst), acks=-1, with retries. Each value carries its seq; `next` is the seq the
 * next send will carry, so a seq >= `next` read at some moment was sent after that moment.
 */
function startTrickle(producer, topic, ratePerSecond) {
  const interval = 1000 / ratePerSecond;
  const trickle = {
    next: 0,
    /** @type {Map<number, number>} seq → performance.now() of its ack */
    acked: new Map(),
    failures: 0,
    stopped: false,
    /** @type {Promise<void>} */
    done: Promise.resolve(),
  };
  trickle.done = (async () => {
    let due = performance.now();
    while (!trickle.stopped) {
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (trickle.stopped) break;
      const seq = trickle.next;
      trickle.next += 1;
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: [{ key: `key-${seq % KEYS}`, value: JSON.stringify({ seq, at: Date.now() }) }],
        });
        trickle.acked.set(seq, performance.now());
      } catch {
        trickle.failures += 1;
      }
      due = Math.max(due + interval, performance.now());
    }
  })();
  return trickle;
}

/** What one consuming side saw: counts, the highest seq, and the first seq >= `afterSeq`. */
function createWatcher() {
  const seen = new Set();
  const watcher = {
    consumed: 0,
    duplicates: 0,
    maxSeq: -1,
    /** Set at the restart: the first seq sent after the broker was ready again. */
    afterSeq: Number.POSITIVE_INFINITY,
    firstAfterAt: 0,
    firstAfterSeq: -1,
    /** @param {Buffer | null} value */
    see(value) {
      const seq = Number(JSON.parse(String(value)).seq);
      watcher.consumed += 1;
      if (seen.has(seq)) watcher.duplicates += 1;
      else seen.add(seq);
      if (seq > watcher.maxSeq) watcher.maxSeq = seq;
      if (seq >= watcher.afterSeq && watcher.firstAfterAt === 0) {
        watcher.firstAfterAt = performance.now();
        watcher.firstAfterSeq = seq;
      }
    },
  };
  return watcher;
}

function createSides(bus, baselineKafka) {
  return [
    {
      name: 'bus',
      start: async (topic, watcher) => {
        const subscription = await bus.subscribe(
          [topic],
          freshGroup(topic, 'bus'),
          async (message) => {
            watcher.see(message.value);
          },
          { fromBeginning: true },
        );
        return () => subscription.close();
      },
    },
    {
      name: 'baseline',
      start: async (topic, watcher) => {
        const consumer = await startEachBatchConsumer(baselineKafka, {
          topic,
          groupId: freshGroup(topic, 'baseline'),
          settings: BUS_DEFAULTS,
          onMessage: async (message) => {
            watcher.see(message.value);
          },
        });
        return () => consumer.disconnect();
      },
    },
  ];
}

async function runRound(env, round, settings) {
  const { broker, admin, producer, sides } = env;
  const label = `recovery, round ${round}`;
  const topic = await withTimeout(
    createTopic({ admin }, 'recovery', PARTITIONS),
    STEP_TIMEOUT_MS,
    `${label}: create topic`,
  );
  const trickle = startTrickle(producer, topic, settings.ratePerSecond);
  const order = rotated(sides, round);
  const watchers = Object.fromEntries(sides.map((side) => [side.name, createWatcher()]));
  /** @type {(() => Promise<void>)[]} */
  const closers = [];
  try {
    for (const side of order) {
      closers.push(
        await withTimeout(
          side.start(topic, watchers[side.name]),
          STEP_TIMEOUT_MS,
          `${label}: start ${side.name}`,
        ),
      );
    }
    // Steady state: each side consumed a second's worth of messages sent after both started.
    const steadySeq = trickle.next + settings.ratePerSecond;
    await withTimeout(
      until(() => Object.values(watchers).every((w) => w.maxSeq >= steadySeq), 20),
      STEP_TIMEOUT_MS,
      `${label}: steady consumption before the kill`,
    );
    const killedAt = performance.now();
    await withTimeout(broker.kill9(), STEP_TIMEOUT_MS, `${label}: kill -9`);
    await sleep(settings.downMs);
    const restarting = performance.now();
    await withTimeout(broker.restart(), BROKER_START_TIMEOUT_MS, `${label}: restart`);
    const readyAt = performance.now();
    const afterSeq = trickle.next;
    for (const watcher of Object.values(watchers)) watcher.afterSeq = afterSeq;
    console.log(
      `  round ${round}: broker killed (pid now ${broker.pid} after restart), down ` +
        `${formatMs(restarting - killedAt)}, restart() took ${formatMs(readyAt - restarting)}; ` +
        `waiting for seq >= ${afterSeq} on both sides`,
    );
    const results = {};
    await Promise.all(
      sides.map(async (side) => {
        const watcher = watchers[side.name];
        try {
          await withTimeout(
            until(() => watcher.firstAfterAt > 0, 5),
            settings.timeoutMs,
            `${side.name} recovery`,
          );
          results[side.name] = { ms: watcher.firstAfterAt - readyAt, timedOut: false };
        } catch {
          results[side.name] = { ms: settings.timeoutMs, timedOut: true };
        }
      }),
    );
    const ackedAfter = trickle.acked.get(afterSeq);
    const sample = {
      round,
      first: order[0].name,
      topic,
      downMs: restarting - killedAt,
      restartMs: readyAt - restarting,
      producerFirstAckMs: ackedAfter === undefined ? null : ackedAfter - readyAt,
      sentBeforeStop: trickle.next,
      sendFailures: trickle.failures,
    };
    for (const side of sides) {
      const watcher = watchers[side.name];
      const ackedAt = trickle.acked.get(watcher.firstAfterSeq);
      sample[side.name] = {
        ...results[side.name],
        firstSeqAfter: watcher.firstAfterSeq,
        // From the broker's ack of that message to its consumption: the consumer's own share.
        afterAckMs: ackedAt === undefined ? null : watcher.firstAfterAt - ackedAt,
        consumed: watcher.consumed,
        duplicates: watcher.duplicates,
      };
    }
    sample.busSubscription = env.bus
      .health()
      .subscriptions.map(({ state, recoveredError, lastError }) => ({
        state,
        recoveredError,
        lastError,
      }));
    const { bus, baseline } = sample;
    sample.ratio = bus.timedOut || baseline.timedOut ? null : bus.ms / baseline.ms;
    console.log(
      `  round ${round}/${settings.rounds} (${order[0].name} subscribed first): bus ` +
        `${showRecovery(bus)}, kafkajs ${showRecovery(baseline)}, ratio ` +
        `${sample.ratio === null ? 'n/a' : formatRatio(sample.ratio)}; producer's first ack ` +
        `after ready ${showMs(sample.producerFirstAckMs)}` +
        `; after that ack: bus ${showMs(bus.afterAckMs)}, kafkajs ${showMs(baseline.afterAckMs)}` +
        `; duplicates bus ${bus.duplicates}, kafkajs ${baseline.duplicates}`,
    );
    return sample;
  } finally {
    trickle.stopped = true;
    await withTimeout(trickle.done, STEP_TIMEOUT_MS, `${label}: stop trickle`).catch((error) => {
      console.error(`  ${String(error)}`);
    });
    await Promise.all(closers.map((close, i) => boundedClose(`${label} ${order[i].name}`, close)));
  }
}

function showMs(ms) {
  return ms === null ? 'n/a' : formatMs(ms);
}

function showRecovery({ ms, timedOut }) {
  return timedOut ? `> ${formatSeconds(ms)} (timed out)` : formatMs(ms);
}

/**
 * Runs part 3 on a broker of its own. `track(cleanup)` registers the broker's cleanup for the
 * signal handler; it returns the untrack function.
 */
export async function runRecovery(settings, track) {
  console.log('\n=== 3) Recovery after a broker restart (kill -9, down, restart) ===');
  const startedAt = performance.now();
  const broker = await withTimeout(
    startBroker({ readyTimeoutMs: BROKER_START_TIMEOUT_MS / 2 }),
    BROKER_START_TIMEOUT_MS,
    'start the dedicated broker',
  );
  const untrack = track(() => broker.cleanup());
  console.log(
    `  broker:   dedicated single-node KRaft broker ${broker.brokers.join(',')}, pid ` +
      `${broker.pid}, ready in ${formatMs(performance.now() - startedAt)}`,
  );
  console.log(
    `  trickle:  ${settings.ratePerSecond} msg/s, one send at a time, acks=-1, retries ` +
      `${TRICKLE_RETRY.retries} (${TRICKLE_RETRY.initialRetryTime}..${TRICKLE_RETRY.maxRetryTime} ms)` +
      `, fresh ${PARTITIONS}-partition topic per round`,
  );
  console.log(
    '  bus:      KafkaEventBus, library defaults (session 30000 ms, connect retries 3, ' +
      'consumer retries 5, fetch wait 100 ms), plain handler',
  );
  console.log(
    '  baseline: kafkajs eachBatch consumer, kafkajs client defaults (retries 5), session ' +
      `${BUS_DEFAULTS.sessionTimeoutMs} ms, heartbeat ${BUS_DEFAULTS.heartbeatIntervalMs} ms, ` +
      `fetch wait ${BUS_DEFAULTS.fetchMaxWaitMs} ms`,
  );
  console.log(
    `  measured: restart() resolved → first message sent after it, per side; down ` +
      `${settings.downMs} ms; bound ${formatSeconds(settings.timeoutMs)} per side; rounds ` +
      `R=${settings.rounds}, subscribe order rotating`,
  );
  const client = (clientId, retry) =>
    new Kafka({
      clientId,
      brokers: broker.brokers,
      logLevel: logLevel.NOTHING,
      ...(retry ? { retry } : {}),
    });
  const admin = client('consumer-core-recovery-admin').admin();
  const producer = client('consumer-core-recovery-trickle', TRICKLE_RETRY).producer({
    idempotent: false,
  });
  const bus = libraryBus(broker.brokers, 'consumer-core-recovery-bus');
  const sides = createSides(bus, client('consumer-core-recovery-baseline'));
  try {
    await withTimeout(
      Promise.all([admin.connect(), producer.connect(), bus.connect()]),
      STEP_TIMEOUT_MS,
      'recovery: connect',
    );
    const env = { broker, admin, producer, bus, sides };
    const rounds = [];
    for (let round = 1; round <= settings.rounds; round++) {
      rounds.push(await runRound(env, round, settings));
    }
    const times = (side) => rounds.map((r) => r[side].ms);
    const ratios = rounds.map((r) => r.ratio).filter((ratio) => ratio !== null);
    return {
      settings: {
        ...settings,
        partitions: PARTITIONS,
        trickleRetry: TRICKLE_RETRY,
        baseline: { ...BUS_DEFAULTS, client: 'kafkajs defaults' },
      },
      rounds,
      library: median(times('bus')),
      baseline: median(times('baseline')),
      libraryTimedOut: rounds.some((r) => r.bus.timedOut),
      baselineTimedOut: rounds.some((r) => r.baseline.timedOut),
      ratio: median(ratios),
    };
  } finally {
    await Promise.all([
      boundedClose('recovery bus', () => bus.disconnect()),
      boundedClose('recovery producer', () => producer.disconnect()),
      boundedClose('recovery admin', () => admin.disconnect()),
    ]);
    await broker.cleanup();
    untrack();
  }
}
