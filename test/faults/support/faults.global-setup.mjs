import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../../.cache/faults/', import.meta.url));

/**
 * Starts the suite's table afresh (`.cache/faults/table.json`; each scenario adds its row).
 * No broker here: every spec starts its own. Plain ESM because jest loads it natively.
 */
export default function faultsGlobalSetup() {
  if (!existsSync(new URL('../../../dist/intelligence/index.js', import.meta.url))) {
    throw new Error('dist/ is missing: run the suite with `npm run test:faults` (it builds first)');
  }
  mkdirSync(dir, { recursive: true });
  rmSync(`${dir}table.json`, { force: true });
  globalThis.__FAULTS_STARTED__ = Date.now();
}
