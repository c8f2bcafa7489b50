import { Controller, Get, HttpCode, HttpStatus, Res, type Type } from '@nestjs/common';
import { IntelligenceRuntime } from '../runtime/intelligence.runtime.js';

interface StatusResponse {
  status(code: number): unknown;
}

/** Builds the health controller mounted at `path` (terminus's JSON shape, 503 when down). */
export function createHealthController(path: string): Type {
  @Controller(path)
  class IntelligenceHealthController {
    constructor(private readonly runtime: IntelligenceRuntime) {}

    @Get()
    @HttpCode(HttpStatus.OK)
    check(@Res({ passthrough: true }) response: StatusResponse) {
      const bus = this.runtime.busHealth();
      const up = this.runtime.status().state === 'wired' && bus.connected;
      const details = {
        intelligence: { status: up ? 'up' : 'down', ...this.runtime.status(), bus },
      };
      if (!up) response.status(HttpStatus.SERVICE_UNAVAILABLE);
      return up
        ? { status: 'ok', info: details, error: {}, details }
        : { status: 'error', info: {}, error: details, details };
    }
  }
  return IntelligenceHealthController;
}
