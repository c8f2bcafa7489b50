import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { INTELLIGENCE_REDACT_PATHS, IntelligenceModule } from './intelligence/index.js';
import { loadServiceConfig } from './service.config.js';

const config = loadServiceConfig(process.env);

/** The runnable intelligence service. */
@Module({
  imports: [
    LoggerModule.forRoot({
      pinoHttp: {
        level: config.logLevel,
        redact: { paths: [...INTELLIGENCE_REDACT_PATHS], censor: '[REDACTED]' },
        autoLogging: false,
      },
    }),
    IntelligenceModule.forRoot({ serviceName: config.serviceName, bus: config.bus }),
  ],
})
export class AppModule {}
