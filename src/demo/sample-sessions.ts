/** Sample coding-assistant sessions the demo feeds through the pattern chain. */
export interface SampleSession {
  session_id: string;
  events: { tool: string; timestamp: string }[];
}

function session(id: string, tools: string[]): SampleSession {
  const start = Date.UTC(2026, 10, 26, 9, 0, 0);
  return {
    session_id: id,
    events: tools.map((tool, index) => ({
      tool,
      timestamp: new Date(start + index * 7_000).toISOString(),
    })),
  };
}

const EDIT_LOOP = ['Read', 'Edit', 'Bash:test'];
const SEARCH_LOOP = ['Grep', 'Read', 'Edit'];

export const SAMPLE_SESSIONS: SampleSession[] = [
  session('demo-session-1', [...EDIT_LOOP, ...EDIT_LOOP, 'Bash:lint', ...EDIT_LOOP]),
  session('demo-session-2', ['Glob', ...SEARCH_LOOP, ...SEARCH_LOOP, 'Bash:test', ...SEARCH_LOOP]),
  session('demo-session-3', [
    ...EDIT_LOOP,
    'WebFetch',
    ...EDIT_LOOP,
    ...SEARCH_LOOP,
    ...SEARCH_LOOP,
  ]),
  session('demo-session-4', ['Read', 'Edit', 'Read', 'Edit', 'Bash:build', 'Read', 'Edit']),
  session('demo-session-5', [...EDIT_LOOP, ...EDIT_LOOP]),
];

/** A hook payload with a bad event: the chain rejects it to the dead-letter topic. */
export const INVALID_SESSION = { session_id: 'demo-session-broken', events: [{ tool: '' }] };
