import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import {
  INTELLIGENCE_REDACT_PATHS,
  IntelligenceDatabase,
  IntelligenceModule,
  requestWithoutQuery,
} from './intelligence/index.js';
import { PATTERN_SQL_CLIENT, PatternNodesModule, PostgresPatternStore } from './nodes/index.js';
import type { ServiceConfig } from './service.config.js';

/**
 * The runnable intelligence service: the pattern nodes on the module, pino logs, health,
 * metrics. With `config.database` (`DATABASE_URL`) the module owns a PostgreSQL pool and the
 * patterns live in it (`PostgresPatternStore`, querying through `IntelligenceDatabase`).
 */
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
    const { database } = config;
    const intelligence = IntelligenceModule.forRoot({
      serviceName: config.serviceName,
      bus: config.bus,
      ...(config.groupId === undefined ? {} : { groupId: config.groupId }),
      ...(config.startFrom === undefined ? {} : { dispatch: { startFrom: config.startFrom } }),
      ...(config.topicMap === undefined ? {} : { topicMap: config.topicMap }),
      ...(database === undefined ? {} : { database: { ...database } }),
      ...(config.wiring === undefined ? {} : { wiring: config.wiring }),
      introspection: { heartbeatIntervalMs: config.heartbeatIntervalMs },
      health: { path: 'health' },
      metrics: { path: 'metrics' },
    });
    // The same `intelligence` object imported twice is one module instance (one pool).
    const patternNodes = database
      ? PatternNodesModule.register({
          store: PostgresPatternStore,
          imports: [intelligence],
          providers: [{ provide: PATTERN_SQL_CLIENT, useExisting: IntelligenceDatabase }],
        })
      : PatternNodesModule;
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({ pinoHttp: logStream ? [pinoOptions, logStream] : pinoOptions }),
        intelligence,
        patternNodes,
      ],
    };
  }
}
