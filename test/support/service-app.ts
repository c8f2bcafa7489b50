import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { PassThrough } from 'node:stream';
import { Logger } from 'nestjs-pino';
import { AppModule } from '../../src/app.module.js';
import { loadServiceConfig } from '../../src/service.config.js';

/**
 * The whole service in this process, configured from `env` as `npm start` would be, its pino
 * lines appended to `logs` (Nest's static logger may still write to an earlier app's stream, so
 * tests read one shared array). Resolves once `init()` ran; the caller closes the app.
 */
export async function bootServiceApp(
  env: NodeJS.ProcessEnv,
  logs: string[],
): Promise<INestApplication> {
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(loadServiceConfig(env), stream)],
  }).compile();
  const app = moduleRef.createNestApplication();
  app.useLogger(app.get(Logger));
  await app.init();
  return app;
}
