import { type DynamicModule, Module } from '@nestjs/common';
import { APP_LOGGER, type Logger } from './logger.js';

/** The process's logger (made before Nest, which logs through it) for every module. */
@Module({})
export class LoggingModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: LoggingModule,
      global: true,
      providers: [{ provide: APP_LOGGER, useValue: logger }],
      exports: [APP_LOGGER],
    };
  }
}
