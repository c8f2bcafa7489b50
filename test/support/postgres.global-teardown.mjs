/** Stops the server `postgres.global-setup.mjs` started, if it started one, and deletes its data. */
export default async function postgresGlobalTeardown() {
  const server = globalThis.__POSTGRES_SERVER__;
  if (!server) return;
  globalThis.__POSTGRES_SERVER__ = undefined;
  delete process.env.DATABASE_URL;
  await server.cleanup();
}
