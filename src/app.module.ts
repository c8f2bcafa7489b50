import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import {
  INTELLIGENCE_REDACT_PATHS,
  IntelligenceModule,
  requestWithoutQuery,
} from './intelligence/index.js';
import { PatternNodesModule } from './nodes/index.js';
import type { ServiceConfig } from './service.config.js';

/** The runnable intelligence service: the pattern nodes on the module, pino logs, health, metrics. */
@Module({})
export class AppModule {
  /** `logStream` sends the JSON logs elsewhere than stdout (tests read them). */
  static forRoot(config: ServiceConfig, logStream?: DestinationStream): DynamicModule {
    const pinoOptions = {
      level: config.logLevel,
      redact: { paths: [...INTELLIGENCE_REDACT_PATHS], censor: '[REDACTED]' },
      serializers: {
        req: requestWithoutQuery,
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      // One line per request: method, path and status; probes and scrapes at debug.
      customLogLevel: () => 'debug' as const,
    };
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({ pinoHttp: logStream ? [pinoOptions, logStream] : pinoOptions }),
        IntelligenceModule.forRoot({
          serviceName: config.serviceName,
          bus: config.bus,
          ...(config.groupId === undefined ? {} : { groupId: config.groupId }),
          ...(config.startFrom === undefined ? {} : { dispatch: { startFrom: config.startFrom } }),
          ...(config.topicMap === undefined ? {} : { topicMap: config.topicMap }),
          introspection: { heartbeatIntervalMs: config.heartbeatIntervalMs },
          health: { path: 'health' },
          metrics: { path: 'metrics' },
        }),
        PatternNodesModule,
      ],
    };
  }
}
