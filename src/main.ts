import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './service.config.js';

const config = loadServiceConfig(process.env);
const app = await NestFactory.create(AppModule.forRoot(config), { bufferLogs: true });
app.useLogger(app.get(Logger));
app.enableShutdownHooks();
await app.listen(config.port, '127.0.0.1');
app
  .get(Logger)
  .log(
    `Intelligence service on http://127.0.0.1:${String(config.port)} (health: /health, metrics: /metrics)`,
  );
