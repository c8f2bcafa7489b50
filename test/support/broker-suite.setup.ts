import { jest } from '@jest/globals';

// Suites on the real broker wait for group joins and rebalances.
jest.setTimeout(90_000);
