/** `@opentelemetry/api`, as the module sees it: an optional peer, loaded only when tracing is on. */
export type OtelApi = typeof import('@opentelemetry/api');

let loading: Promise<OtelApi | undefined> | undefined;

/** The installed `@opentelemetry/api` (imported once), or undefined when it is not installed. */
export function loadOtelApi(): Promise<OtelApi | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (api) => api,
    (error: unknown) => {
      if (isModuleMissing(error)) return undefined;
      throw error;
    },
  );
  return loading;
}

function isModuleMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}
