import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { IntelligenceOptionsError, LogSanitizer } from './intelligence/index.js';
import { loadServiceConfig, ServiceConfigError } from './service.config.js';

/** Boots the service; a bad setting ends it with one line naming the variable or option. */
async function main(): Promise<void> {
  const config = loadServiceConfig(process.env);
  const app = await NestFactory.create(AppModule.forRoot(config), {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  const { address, port } = (app.getHttpServer() as Server).address() as AddressInfo;
  app.get(Logger).log({
    msg: `Intelligence service on http://${address}:${String(port)} (health: /health, metrics: /metrics)`,
    address,
    port,
  });
}

main().catch((error: unknown) => {
  if (error instanceof ServiceConfigError || error instanceof IntelligenceOptionsError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `The service failed to start: ${new LogSanitizer().describeError(error)}\n`,
    );
  }
  process.exitCode = 1;
});
