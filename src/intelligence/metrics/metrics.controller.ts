import { Controller, Get, Header, type Type } from '@nestjs/common';
import { Registry } from 'prom-client';
import { IntelligenceMetrics } from './intelligence-metrics.service.js';

/** Builds the controller serving the module's Prometheus metrics at `path`. */
export function createMetricsController(path: string): Type {
  @Controller(path)
  class IntelligenceMetricsController {
    constructor(private readonly metrics: IntelligenceMetrics) {}

    @Get()
    @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
    async scrape(): Promise<string> {
      return (await this.metrics.render()).body;
    }
  }
  return IntelligenceMetricsController;
}
