import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { AppOptions } from './config/app-options.js';
import { appConfig } from './config/app.config.js';
import { HealthModule } from './health/health.module.js';
import { InfoModule } from './info/info.module.js';
import { RandomsModule } from './randoms/randoms.module.js';

@Module({})
export class AppModule {
  /** The application for options already parsed and validated (main.ts, or a test). */
  static forRoot(options: AppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [appConfig(options)],
        }),
        HealthModule,
        InfoModule,
        RandomsModule,
      ],
    };
  }
}
