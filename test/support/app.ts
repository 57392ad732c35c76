import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import {
  parseAppOptions,
  type AppOptions,
} from '../../src/config/app-options.js';

/** The real AppModule with the production setup, configured as if started with `argv` and `env`. */
export async function createTestApp(
  argv: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ app: NestExpressApplication; options: AppOptions }> {
  const options = parseAppOptions(argv, env);
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(options)],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    logger: false,
  });
  configureApp(app, options);
  await app.init();
  return { app, options };
}
