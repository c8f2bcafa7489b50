/** Tool sequences for the pattern-node tests. */

/** Read, Edit, Bash three times: "Read Edit Bash" recurs 3 times, three 4-tool wraps twice. */
export const READ_EDIT_BASH_X3 = [
  'Read',
  'Edit',
  'Bash',
  'Read',
  'Edit',
  'Bash',
  'Read',
  'Edit',
  'Bash',
];

/** 120 distinct pairs, each twice, kept apart by tools that never recur: 120 patterns. */
export function sessionWith120Patterns(): string[] {
  return [0, 1]
    .flatMap((round) =>
      Array.from({ length: 120 }, (_, index) => [
        `a${index}`,
        `b${index}`,
        `noise-${round}-${index}`,
      ]),
    )
    .flat();
}

/** A hook-style session payload: events with timestamps and extra fields. */
export function sessionPayload(sessionId: string, tools: readonly string[]) {
  return {
    session_id: sessionId,
    events: tools.map((tool, index) => ({
      tool,
      timestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, index)).toISOString(),
      cwd: '/repo',
    })),
  };
}
