import { jest } from '@jest/globals';

// Each scenario starts worker processes, waits out group joins and faults: generous, bounded.
jest.setTimeout(180_000);
