import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AppOptions } from './config/app-options.js';
import { PROJECT_ROOT } from './config/paths.js';
import { NotFoundFilter } from './common/filters/not-found.filter.js';
import { securityHeaders } from './common/middleware/security-headers.middleware.js';
import { servedByHeader } from './common/middleware/served-by.middleware.js';

/** Global setup shared by main.ts and the e2e tests, so that they cannot drift. */
export function configureApp(
  app: NestExpressApplication,
  options: Pick<AppOptions, 'port' | 'trustProxy'>,
): NestExpressApplication {
  app.disable('x-powered-by');
  // Every answer is live and marked no-store: hashing each body for an ETag is wasted work.
  app.set('etag', false);
  // Only the balancers named in TRUST_PROXY may say who the client is.
  app.set('trust proxy', [...options.trustProxy]);
  app.setBaseViewsDir(join(PROJECT_ROOT, 'views'));
  app.setViewEngine('hbs');
  // Middleware rather than interceptors: they also reach 404s and errors thrown before a handler.
  app.use(servedByHeader(options.port), securityHeaders());
  app.useGlobalFilters(new NotFoundFilter());
  return app;
}
