import { readFileSync } from 'node:fs';

const swcConfig = JSON.parse(readFileSync(new URL('./.swcrc', import.meta.url), 'utf8'));

/** Shared by every project: native ESM, @swc/jest, `.js` suffixes stripped from relative imports. */
const base = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swcConfig, swcrc: false }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/support/quiet-logs.ts'],
};

const brokerSetup = {
  setupFilesAfterEnv: ['<rootDir>/test/support/broker-suite.setup.ts'],
  globalSetup: '<rootDir>/test/support/postgres-kafka.global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/postgres-kafka.global-teardown.mjs',
};

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.spec.ts'] },
    {
      ...base,
      ...brokerSetup,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
    },
    {
      ...base,
      ...brokerSetup,
      // Builds dist/ once for every spec (they run the built app) beside the broker's start.
      globalSetup: '<rootDir>/test/support/e2e.global-setup.mjs',
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'],
    },
    {
      // Worker processes on a real broker each spec starts for itself (no broker global setup);
      // `npm run test:faults` builds dist/ first and runs the specs one at a time.
      ...base,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.faults.spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/faults/support/faults-suite.setup.ts'],
      globalSetup: '<rootDir>/test/faults/support/faults.global-setup.mjs',
      globalTeardown: '<rootDir>/test/faults/support/faults.global-teardown.mjs',
    },
  ],
};
