/**
 * Kinds that come and go with the test runner's own I/O (jest reads and writes files while a
 * test runs): a count of them at one instant says nothing about a leak.
 */
const TRANSIENT = new Set(['FSReqCallback', 'Immediate']);

/** Active handles by kind (Timeout, TCPWRAP, ...): what a leaked timer or socket shows up as. */
export function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (!TRANSIENT.has(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}
