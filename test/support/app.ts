import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { createLogger } from '../../src/common/logging/logger.js';
import {
  parseAppOptions,
  type AppOptions,
} from '../../src/config/app-options.js';

/**
 * The real AppModule with the production setup, configured as if started with
 * `argv` and `env` (LOG_LEVEL silent unless `env` says otherwise).
 */
export async function createTestApp(
  argv: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ app: NestExpressApplication; options: AppOptions }> {
  const options = parseAppOptions(argv, { LOG_LEVEL: 'silent', ...env });
  const logger = await createLogger({
    level: options.logLevel,
    format: 'json',
    base: {},
  });
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(options, logger)],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    logger: false,
  });
  configureApp(app, options);
  await app.init();
  return { app, options };
}
