import { Module } from '@nestjs/common';
import { RandomsController } from './randoms.controller.js';
import { randomsPoolProviders } from './randoms.pool.js';
import { RandomsService } from './randoms.service.js';

@Module({
  controllers: [RandomsController],
  providers: [...randomsPoolProviders, RandomsService],
})
export class RandomsModule {}
