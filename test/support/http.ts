import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import request from 'supertest';

/** supertest against a Nest app's HTTP server. */
export function http(app: INestApplication) {
  return request(app.getHttpServer() as Server);
}
