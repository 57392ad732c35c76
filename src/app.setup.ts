import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AppOptions } from './config/app-options.js';
import { PROJECT_ROOT } from './config/paths.js';
import { securityHeaders } from './common/middleware/security-headers.middleware.js';
import { servedBy } from './common/middleware/served-by.middleware.js';

/** Global setup shared by main.ts and the e2e tests, so that they cannot drift. */
export function configureApp(
  app: NestExpressApplication,
  options: Pick<AppOptions, 'port'>,
): NestExpressApplication {
  app.disable('x-powered-by');
  // nginx on the same machine is the only proxy in front of us.
  app.set('trust proxy', 'loopback');
  app.setBaseViewsDir(join(PROJECT_ROOT, 'views'));
  app.setViewEngine('hbs');
  // Middleware rather than interceptors: they also reach 404s and errors thrown before a handler.
  app.use(servedBy(options.port), securityHeaders());
  return app;
}
