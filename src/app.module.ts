import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { Logger } from './common/logging/logger.js';
import { LoggingModule } from './common/logging/logging.module.js';
import type { AppOptions } from './config/app-options.js';
import { appConfig } from './config/app.config.js';
import { HealthModule } from './health/health.module.js';
import { InfoModule } from './info/info.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RandomsModule } from './randoms/randoms.module.js';

@Module({})
export class AppModule {
  /** The application for options already parsed and validated, and the process's logger. */
  static forRoot(options: AppOptions, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [appConfig(options)],
        }),
        LoggingModule.forRoot(logger),
        HealthModule,
        InfoModule,
        MetricsModule,
        RandomsModule,
      ],
    };
  }
}
