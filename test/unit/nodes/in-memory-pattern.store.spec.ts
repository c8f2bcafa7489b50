import { InMemoryPatternStore } from '../../../src/nodes/pattern-storage/in-memory-pattern.store.js';
import { describePatternStoreContract } from '../../support/pattern-store-contract.js';

describePatternStoreContract('InMemoryPatternStore', {
  createStore: () => new InMemoryPatternStore(),
});
