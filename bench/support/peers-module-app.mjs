// The module's contender app: IntelligenceModule.forRoot on Kafka with the given client, in a
// Nest application context (NestFactory.createApplicationContext, as a headless worker runs
// it), with one node whose @IntelligenceHandler(topic) calls the bench handler with
// `event.payload`. Plain .mjs: decorators are applied by calling them.
import 'reflect-metadata';
import diagnostics from 'node:diagnostics_channel';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  EventBus,
  IntelligenceHandler,
  IntelligenceModule,
  IntelligenceNode,
  IntelligenceRuntime,
} from '../../dist/intelligence/index.js';

/** Thrown when the built library does not offer the asked-for Kafka client. */
export class ClientUnavailableError extends Error {
  name = 'ClientUnavailableError';
}

/** Applies a method decorator the way TypeScript's legacy decorators do. */
function decorate(Class, method, decorator) {
  const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, method);
  const result = decorator(Class.prototype, method, descriptor);
  if (result) Object.defineProperty(Class.prototype, method, result);
}

/**
 * @platformatic/kafka announces every client it creates on the diagnostics channel
 * `plt:kafka:instances`: counted here by type, so a run can tell which client the module
 * really uses (the Kafka bus options are a loose object: a library without the adapter would
 * accept `client: 'platformatic'` and run on kafkajs).
 * @type {Record<string, number>}
 */
const platformaticInstances = {};
diagnostics.subscribe('plt:kafka:instances', (message) => {
  const type = String(/** @type {{ type?: unknown }} */ (message)?.type ?? 'unknown');
  platformaticInstances[type] = (platformaticInstances[type] ?? 0) + 1;
});

export function platformaticClientsCreated() {
  return { ...platformaticInstances };
}

/**
 * Boots the module's app and waits until it is wired.
 * @param {{ client: 'kafkajs' | 'platformatic', brokers: string[], groupId: string, topic?: string, dispatch?: object, handle?: (payload: unknown) => Promise<void> }} options
 */
export async function startModuleApp({ client, brokers, groupId, topic, dispatch = {}, handle }) {
  const providers = [];
  if (topic !== undefined) {
    class PeersBenchNode {
      async handle(event) {
        await handle(event.payload);
      }
    }
    IntelligenceNode({ name: 'peers-bench', kind: 'compute', version: '1.0.0' })(PeersBenchNode);
    Injectable()(PeersBenchNode);
    decorate(PeersBenchNode, 'handle', IntelligenceHandler(topic));
    providers.push(PeersBenchNode);
  }
  class PeersBenchAppModule {}
  Module({
    imports: [
      IntelligenceModule.forRoot({
        serviceName: 'peers-bench',
        bus: { kind: 'kafka', client, brokers },
        groupId,
        dispatch,
        wiring: { failFast: true },
        health: false,
      }),
    ],
    providers,
  })(PeersBenchAppModule);
  let app;
  try {
    app = await NestFactory.createApplicationContext(PeersBenchAppModule, {
      logger: false,
      abortOnError: false,
    });
  } catch (error) {
    // The library's options check names the field it rejects: the client is not offered.
    if (error?.name === 'IntelligenceOptionsError' && /client/.test(String(error.message))) {
      throw new ClientUnavailableError(`the built library rejects it: ${error.message}`);
    }
    throw error;
  }
  const runtime = app.get(IntelligenceRuntime);
  const state = runtime.status().state;
  if (state !== 'wired') {
    const reason = runtime.status().lastResult?.error ?? state;
    await app.close().catch(() => {});
    throw new Error(`module app not wired: ${reason}`);
  }
  const bus = app.get(EventBus);
  return {
    app,
    bus,
    runtime,
    /**
     * Fails (closing the app) unless the app runs on the client it was asked for: with
     * 'platformatic' some @platformatic/kafka client must exist, with 'kafkajs' none. Call it
     * once the bus has done what creates its clients (wired and subscribed; or published).
     * @returns {Promise<{ class: string, kind: string, platformaticClients: Record<string, number> }>}
     */
    verifyClient: async () => {
      const created = platformaticClientsCreated();
      const count = Object.values(created).reduce((sum, n) => sum + n, 0);
      if (client === 'platformatic' && count === 0) {
        await app.close().catch(() => {});
        throw new ClientUnavailableError(
          "the built library accepts client: 'platformatic' but its bus created no @platformatic/kafka client (it runs on kafkajs)",
        );
      }
      if (client === 'kafkajs' && count > 0) {
        await app.close().catch(() => {});
        throw new Error(
          `client 'kafkajs' created @platformatic/kafka clients ${JSON.stringify(created)}`,
        );
      }
      return { class: bus.constructor.name, kind: bus.health().kind, platformaticClients: created };
    },
  };
}
