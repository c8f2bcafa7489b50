import { InMemoryPatternStore } from '../../../src/nodes/pattern-storage/in-memory-pattern.store.js';
import { MAX_PATTERN_SESSIONS } from '../../../src/nodes/pattern-storage/pattern.store.js';
import { describePatternStoreContract } from '../../support/pattern-store-contract.js';

describePatternStoreContract('InMemoryPatternStore', {
  createStore: () => new InMemoryPatternStore(),
  maxSessions: MAX_PATTERN_SESSIONS,
});

describePatternStoreContract('InMemoryPatternStore with a small session bound', {
  createStore: () => new InMemoryPatternStore(3),
  maxSessions: 3,
});
