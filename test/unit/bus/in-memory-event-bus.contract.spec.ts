import { InMemoryEventBus } from '../../../src/intelligence/bus/in-memory-event-bus.js';
import { describeBusContract } from '../../support/bus-contract.js';
import { uniqueTopic } from '../../support/unique-names.js';

describeBusContract('InMemoryEventBus', {
  createBus: () => new InMemoryEventBus({ partitions: 3, maxMessageBytes: 64 * 1024 }),
  createTopic: () => Promise.resolve(uniqueTopic()),
  partitions: 3,
  maxMessageBytes: 64 * 1024,
  quietMs: 100,
});
