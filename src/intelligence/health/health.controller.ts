import { Controller, Get, type Type } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { IntelligenceHealthIndicator } from './intelligence-health.indicator.js';

/**
 * Builds the health controller mounted at `path`: `GET path` and `GET path/ready`
 * (readiness), `GET path/live` (liveness); terminus's JSON shape, 503 when down.
 */
export function createHealthController(path: string): Type {
  @Controller(path)
  class IntelligenceHealthController {
    constructor(
      private readonly health: HealthCheckService,
      private readonly indicator: IntelligenceHealthIndicator,
    ) {}

    @Get(['', 'ready'])
    @HealthCheck()
    ready() {
      return this.health.check([() => this.indicator.isReady()]);
    }

    @Get('live')
    @HealthCheck()
    live() {
      return this.health.check([() => this.indicator.isLive()]);
    }
  }
  return IntelligenceHealthController;
}
