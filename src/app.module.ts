import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { appConfig } from './config/app.config.js';
import { HealthModule } from './health/health.module.js';
import { InfoModule } from './info/info.module.js';
import { RandomsModule } from './randoms/randoms.module.js';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      load: [appConfig],
    }),
    HealthModule,
    InfoModule,
    RandomsModule,
  ],
})
export class AppModule {}
