/** The Kafka clients the library can run on (`bus.client`); each scenario runs on each. */
export type FaultClient = 'kafkajs' | 'platformatic';

const KNOWN: readonly FaultClient[] = ['kafkajs', 'platformatic'];

/**
 * The clients to run every scenario on: `FAULTS_CLIENTS` (comma-separated, e.g. `platformatic`
 * to run only those rows), by default both, kafkajs first.
 */
export function faultClients(raw = process.env.FAULTS_CLIENTS): FaultClient[] {
  if (raw === undefined || raw.trim() === '') return [...KNOWN];
  const wanted = raw.split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !KNOWN.includes(name as FaultClient));
  if (unknown.length > 0) {
    throw new Error(
      `FAULTS_CLIENTS: unknown client(s) ${unknown.join(', ')}; use ${KNOWN.join(', ')}`,
    );
  }
  return KNOWN.filter((client) => wanted.includes(client));
}
