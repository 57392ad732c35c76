import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RandomsController } from './randoms.controller.js';
import { randomsPoolProviders } from './randoms.pool.js';
import { RandomsService } from './randoms.service.js';

@Module({
  imports: [MetricsModule],
  controllers: [RandomsController],
  providers: [...randomsPoolProviders, RandomsService],
})
export class RandomsModule {}
