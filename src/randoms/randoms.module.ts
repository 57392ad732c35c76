import { Module } from '@nestjs/common';
import { RandomsController } from './randoms.controller.js';
import { randomsPoolProvider } from './randoms.pool.js';
import { RandomsService } from './randoms.service.js';

@Module({
  controllers: [RandomsController],
  providers: [randomsPoolProvider, RandomsService],
})
export class RandomsModule {}
