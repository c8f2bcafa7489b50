// The produce job (in the worker process), two measurements on fresh 6-partition topics:
//   single: N envelopes, `inFlight` at a time (a sliding window, as concurrent handlers
//           publish): the module's DispatchContext `ctx.publish(topic, payload)` (the code a
//           handler's ctx runs: envelope built, correlated, bus.publish) vs kafkajs
//           `producer.send({ topic, messages: [envelope] })` building the same envelope;
//   batch:  N prebuilt envelopes in sends of `batchSize`, one after the other: the bus's
//           `publishBatch(topic, messages)` vs `producer.send({ topic, messages })`.
// Both producers are idempotent (the bus's default) with acks=-1. A warm-up of WARM_UP
// messages per topic goes first (topic metadata, connections); afterwards each topic must
// hold exactly WARM_UP + N messages.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { createEnvelope, toOutgoing } from '../../dist/intelligence/index.js';
import { HandlerContext } from '../../dist/intelligence/dispatch/handler-context.js';
import { perSecond } from './bench-stats.mjs';
import { chunk } from './dispatch-fixtures.mjs';
import { startModuleApp } from './peers-module-app.mjs';
import { PARTITIONS } from './peers-config.mjs';
import { freshGroup, freshTopic, messagesHeld } from './peers-payloads.mjs';

const WARM_UP = 100;
const SOURCE = 'peers-bench';
const EVENT_TYPE = 'work-requested';

/** Runs task(0..count-1) with at most `inFlight` running at once. */
async function windowed(count, inFlight, task) {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next;
      next += 1;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
}

/** The incoming events the publishing handlers would be handling (made before the clock). */
function incomingEvents(count) {
  return Array.from({ length: count }, () => ({
    correlationId: randomUUID(),
    envelopeId: randomUUID(),
  }));
}

/** The envelope `ctx.publish` would build for `event`, built by hand for the peer. */
function envelopeFor(topic, event, seq) {
  return toOutgoing(
    createEnvelope({
      topic,
      payload: { seq },
      eventType: EVENT_TYPE,
      correlationId: event.correlationId,
      causationId: event.envelopeId,
      source: SOURCE,
    }),
  );
}

/** The contender's two operations. */
async function openSender(job) {
  if (job.contender === 'kafkajs') {
    const kafka = new Kafka({
      clientId: 'peers-produce',
      brokers: job.brokers,
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({
      idempotent: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    return {
      info: { producer: 'kafkajs, idempotent, acks -1' },
      publishOne: (topic, event, seq) =>
        producer.send({ topic, acks: -1, messages: [envelopeFor(topic, event, seq)] }),
      publishBatch: (topic, messages) => producer.send({ topic, acks: -1, messages }),
      verify: async () => ({}),
      close: () => producer.disconnect(),
    };
  }
  const client = job.contender === 'module-platformatic' ? 'platformatic' : 'kafkajs';
  const { app, bus, verifyClient } = await startModuleApp({
    client,
    brokers: job.brokers,
    groupId: freshGroup('produce'),
  });
  const identity = (topic) => topic;
  return {
    info: { publishOne: 'DispatchContext.publish (HandlerContext)' },
    verify: async () => ({ bus: await verifyClient() }),
    publishOne: (topic, event, seq) =>
      new HandlerContext('PeersBench.produce', 1, event, bus, SOURCE, identity).publish(
        topic,
        { seq },
        { eventType: EVENT_TYPE },
      ),
    publishBatch: (topic, messages) => bus.publishBatch(topic, messages),
    close: () => app.close(),
  };
}

async function createTopics(admin, names) {
  const topics = names.map((name) => freshTopic(name));
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions: PARTITIONS })),
    waitForLeaders: true,
  });
  return topics;
}

/**
 * @param {{ contender: string, brokers: string[], single: number, batch: number, inFlight: number, batchSize: number }} job
 */
export async function runProduce(job) {
  const kafka = new Kafka({
    clientId: 'peers-produce-admin',
    brokers: job.brokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const sender = await openSender(job);
  try {
    const [singleTopic, batchTopic] = await createTopics(admin, [
      'produce-single',
      'produce-batch',
    ]);

    const warmEvents = incomingEvents(WARM_UP);
    await windowed(WARM_UP, job.inFlight, (i) => sender.publishOne(singleTopic, warmEvents[i], i));
    // The bus has connected and published by now: it must be on the client it was asked for.
    const verified = await sender.verify();
    const events = incomingEvents(job.single);
    let started = performance.now();
    await windowed(job.single, job.inFlight, (i) => sender.publishOne(singleTopic, events[i], i));
    const singleMs = performance.now() - started;

    const warmBatch = incomingEvents(WARM_UP).map((event, i) => envelopeFor(batchTopic, event, i));
    await sender.publishBatch(batchTopic, warmBatch);
    const batches = chunk(
      incomingEvents(job.batch).map((event, i) => envelopeFor(batchTopic, event, i)),
      job.batchSize,
    );
    started = performance.now();
    for (const messages of batches) await sender.publishBatch(batchTopic, messages);
    const batchMs = performance.now() - started;

    const held = {
      single: await messagesHeld(admin, singleTopic),
      batch: await messagesHeld(admin, batchTopic),
    };
    const problems = [];
    if (held.single !== WARM_UP + job.single) {
      problems.push(`single topic holds ${held.single}, expected ${WARM_UP + job.single}`);
    }
    if (held.batch !== WARM_UP + job.batch) {
      problems.push(`batch topic holds ${held.batch}, expected ${WARM_UP + job.batch}`);
    }
    if (problems.length > 0) throw new Error(problems.join('; '));
    return {
      single: { count: job.single, ms: singleMs, rate: perSecond(job.single, singleMs) },
      batch: { count: job.batch, ms: batchMs, rate: perSecond(job.batch, batchMs) },
      info: { ...sender.info, ...verified },
    };
  } finally {
    await Promise.allSettled([sender.close(), admin.disconnect()]);
  }
}
