// The PostgreSQL specs alone, on a server of their own (no Kafka):
//   node --experimental-vm-modules node_modules/jest/bin/jest.js \
//     --config test/integration/database/jest.database.config.mjs
import { fileURLToPath } from 'node:url';
import config from '../../../jest.config.js';

const rootDir = fileURLToPath(new URL('../../..', import.meta.url));
const integration = config.projects.find((project) => project.displayName === 'integration');

/** @type {import('jest').Config} */
export default {
  rootDir,
  projects: [
    {
      ...integration,
      rootDir,
      displayName: 'database',
      testMatch: ['<rootDir>/test/integration/database/**/*.spec.ts'],
      globalSetup: '<rootDir>/test/support/postgres.global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/postgres.global-teardown.mjs',
    },
  ],
};
