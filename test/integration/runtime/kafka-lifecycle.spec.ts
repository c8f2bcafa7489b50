import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import type {
  MessageHandler,
  SubscribeOptions,
  Subscription,
} from '../../../src/intelligence/bus/bus-message.interface.js';
import { KafkaEventBus } from '../../../src/intelligence/bus/kafka-event-bus.js';
import {
  HEARTBEAT_TOPIC,
  INTROSPECTION_TOPIC,
} from '../../../src/intelligence/intelligence.constants.js';
import { IntrospectionGuard } from '../../../src/intelligence/introspection/introspection.guard.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';
import { IntelligenceRuntime } from '../../../src/intelligence/runtime/intelligence.runtime.js';
import { WiringState } from '../../../src/intelligence/runtime/wiring.state.js';
import { captureLogs } from '../../support/capture-logs.js';
import { compileIntelligenceApp } from '../../support/intelligence-app.js';
import { kafkaBrokers } from '../../support/kafka-env.js';
import { KafkaTopicReader } from '../../support/kafka-topic-reader.js';
import { uniqueGroup, uniqueTopic } from '../../support/unique-names.js';
import { pause, waitFor } from '../../support/wait-for.js';

const CANARY = 'canary-kafka-Secret-5150';

/** The real Kafka bus, whose subscribe can be made to throw: the fault after introspection. */
class SubscribeFailingKafkaBus extends KafkaEventBus {
  failSubscribe = true;

  override async subscribe(
    topics: readonly string[],
    groupId: string,
    handler: MessageHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    if (this.failSubscribe) throw new Error(`consumer rejected: password=${CANARY}`);
    return super.subscribe(topics, groupId, handler, options);
  }
}

describe('IntelligenceModule lifecycle on the real broker', () => {
  let reader: KafkaTopicReader;
  const apps: TestingModule[] = [];
  let serviceCount = 0;

  const kafkaApp = async (
    bus: KafkaEventBus,
    service: string,
    logger?: object,
    groupId = uniqueGroup(service),
  ) => {
    const app = await compileIntelligenceApp(
      {
        serviceName: service,
        bus,
        groupId,
        introspection: { heartbeatIntervalMs: 200 },
        wiring: { retry: false },
      },
      logger ? { logger: logger as never } : {},
    );
    apps.push(app);
    return app;
  };
  const newService = () => `svc-${String(++serviceCount)}-${String(Date.now() % 100_000)}`;
  const busFor = (Type = KafkaEventBus) =>
    new Type(
      {
        clientId: 'lifecycle',
        brokers: kafkaBrokers(),
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 500,
        fetchMaxWaitMs: 200,
      },
      new LogSanitizer(),
    );

  beforeAll(async () => {
    reader = await new KafkaTopicReader().start([INTROSPECTION_TOPIC, HEARTBEAT_TOPIC]);
  });

  afterAll(async () => {
    await reader.stop();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('announces every node, beats for effect nodes, and says goodbye on close', async () => {
    const service = newService();
    const app = await kafkaApp(busFor(), service);
    await app.init();
    expect(app.get(IntelligenceRuntime).status().state).toBe('wired');
    await waitFor(() => reader.of(INTROSPECTION_TOPIC, service).length === 3, 'startup events');
    await waitFor(() => reader.of(HEARTBEAT_TOPIC, service).length >= 4, 'heartbeats');
    const startup = reader.of(INTROSPECTION_TOPIC, service);
    expect(startup.map((m) => m.payload.node_name).sort()).toEqual([
      'alpha-effect',
      'beta-effect',
      'gamma-compute',
    ]);
    for (const message of [...startup, ...reader.of(HEARTBEAT_TOPIC, service)]) {
      expect(message.headers.correlation_id).toBe(message.envelope.correlation_id);
      expect(message.headers.event_type).toBe(message.envelope.event_type);
      expect(message.headers.content_type).toBe('application/json');
    }
    const beatingNodes = new Set(
      reader.of(HEARTBEAT_TOPIC, service).map((m) => m.payload.node_type),
    );
    expect(beatingNodes).toEqual(new Set(['effect']));
    await app.close();
    await waitFor(
      () =>
        reader.of(INTROSPECTION_TOPIC, service).filter((m) => m.payload.reason === 'shutdown')
          .length === 3,
      'shutdown events',
    );
  });

  it('cleans up after a subscribe that throws once introspection is on Kafka, and wires again', async () => {
    const logs = captureLogs();
    try {
      const service = newService();
      const bus = busFor(SubscribeFailingKafkaBus) as SubscribeFailingKafkaBus;
      const app = await kafkaApp(bus, service, logs.logger);
      await app.init();
      const runtime = app.get(IntelligenceRuntime);
      expect(runtime.status()).toMatchObject({ state: 'failed', lastResult: { ok: false } });
      await waitFor(
        () => reader.of(INTROSPECTION_TOPIC, service).length === 3,
        'startup events reached Kafka',
      );
      expect(app.get(WiringState).holdsAnything).toBe(false);
      expect(app.get(IntrospectionGuard).acquired).toBe(false);
      // The bus was passed in the options: borrowed, so the module closed only its own part.
      expect(bus.health()).toMatchObject({ connected: true, subscriptions: [] });

      await pause(400);
      const beatsAfterCleanup = reader.of(HEARTBEAT_TOPIC, service).length;
      await pause(600);
      expect(reader.of(HEARTBEAT_TOPIC, service)).toHaveLength(beatsAfterCleanup);

      bus.failSubscribe = false;
      expect(await runtime.wire()).toMatchObject({ ok: true, status: 'wired' });
      await waitFor(
        () => reader.of(INTROSPECTION_TOPIC, service).length === 6,
        'second startup on Kafka',
      );
      await waitFor(
        () => reader.of(HEARTBEAT_TOPIC, service).length >= beatsAfterCleanup + 2,
        'beating again',
      );
      await app.close();
      expect(logs.lines.length).toBeGreaterThan(0);
      expect(logs.text()).not.toContain(CANARY);
      expect(JSON.stringify(runtime.status())).not.toContain(CANARY);
    } finally {
      logs.restore();
    }
  });

  it('keeps two apps on one broker apart: closing one leaves the other beating', async () => {
    const [serviceA, serviceB] = [newService(), newService()];
    const appA = await kafkaApp(busFor(), serviceA);
    const appB = await kafkaApp(busFor(), serviceB);
    await Promise.all([appA.init(), appB.init()]);
    await appA.close();
    await pause(300);
    const beatsA = reader.of(HEARTBEAT_TOPIC, serviceA).length;
    const beatsB = reader.of(HEARTBEAT_TOPIC, serviceB).length;
    await waitFor(() => reader.of(HEARTBEAT_TOPIC, serviceB).length >= beatsB + 3, 'B beating');
    expect(reader.of(HEARTBEAT_TOPIC, serviceA)).toHaveLength(beatsA);
  });

  it('tells two instances of one service apart: a shutdown speaks only for its own instance', async () => {
    const service = newService();
    const groupId = uniqueGroup(service);
    const first = await kafkaApp(busFor(), service, undefined, groupId);
    const second = await kafkaApp(busFor(), service, undefined, groupId);
    await Promise.all([first.init(), second.init()]);
    await waitFor(() => reader.of(INTROSPECTION_TOPIC, service).length === 6, 'both startups');
    const instances = [
      ...new Set(reader.of(INTROSPECTION_TOPIC, service).map((m) => m.payload.instance_id)),
    ];
    expect(instances).toHaveLength(2);
    for (const message of reader.of(INTROSPECTION_TOPIC, service)) {
      expect(message.payload).toMatchObject({
        instance_id: expect.any(String),
        host: expect.any(String),
        pid: process.pid,
      });
      expect(message.key).toBe(message.payload.instance_id);
    }
    const nodeIds = (instance: unknown) =>
      reader
        .of(INTROSPECTION_TOPIC, service)
        .filter((m) => m.payload.instance_id === instance)
        .map((m) => m.payload.node_id)
        .sort();
    // The node ids are the nodes' stable ids: the same in both instances.
    expect(nodeIds(instances[0])).toEqual(nodeIds(instances[1]));

    await first.close();
    apps.splice(apps.indexOf(first), 1);
    await waitFor(
      () => reader.of(INTROSPECTION_TOPIC, service).some((m) => m.payload.reason === 'shutdown'),
      'shutdown events',
    );
    await pause(300);
    const stopped = reader
      .of(INTROSPECTION_TOPIC, service)
      .filter((m) => m.payload.reason === 'shutdown');
    expect(stopped).toHaveLength(3);
    const closedInstance = stopped[0]?.payload.instance_id;
    expect(stopped.every((m) => m.payload.instance_id === closedInstance)).toBe(true);
    const beatsOfOther = () =>
      reader.of(HEARTBEAT_TOPIC, service).filter((m) => m.payload.instance_id !== closedInstance)
        .length;
    const before = beatsOfOther();
    await waitFor(() => beatsOfOther() >= before + 3, 'the other instance beats on');
    for (const beat of reader.of(HEARTBEAT_TOPIC, service)) {
      expect(beat.key).toBe(beat.payload.instance_id);
    }
  });

  it('never disconnects a borrowed Kafka bus: its other subscriber keeps receiving', async () => {
    const service = newService();
    const bus = busFor(SubscribeFailingKafkaBus) as SubscribeFailingKafkaBus;
    await bus.connect();
    const topic = uniqueTopic('borrowed');
    const received: string[] = [];
    bus.failSubscribe = false;
    await bus.subscribe(
      [topic],
      uniqueGroup('app-own'),
      (message) => {
        received.push(message.value?.toString() ?? '');
        return Promise.resolve();
      },
      { fromBeginning: true },
    );
    bus.failSubscribe = true;
    const app = await kafkaApp(bus, service);
    await app.init();
    expect(app.get(IntelligenceRuntime).status().state).toBe('failed');
    await bus.publish(topic, { value: 'after-failed-wiring' });
    await waitFor(() => received.includes('after-failed-wiring'), 'delivered after the failure');

    bus.failSubscribe = false;
    expect(await app.get(IntelligenceRuntime).wire()).toMatchObject({ ok: true });
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    await bus.publish(topic, { value: 'after-close' });
    await waitFor(() => received.includes('after-close'), 'delivered after the module closed');
    // The module's own consumer is gone; the app's is still there.
    expect(bus.health()).toMatchObject({ connected: true });
    expect(bus.health().subscriptions.map((s) => s.groupId)).toEqual([
      expect.stringMatching(/^test-app-own-/),
    ]);
    await bus.disconnect();
  });
});
