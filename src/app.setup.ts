import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AppOptions } from './config/app-options.js';
import { PROJECT_ROOT } from './config/paths.js';
import { NotFoundFilter } from './common/filters/not-found.filter.js';
import { APP_LOGGER, type Logger } from './common/logging/logger.js';
import { observeRequests } from './common/middleware/observe-requests.middleware.js';
import { requestId } from './common/middleware/request-id.middleware.js';
import { securityHeaders } from './common/middleware/security-headers.middleware.js';
import { servedByHeader } from './common/middleware/served-by.middleware.js';
import { MetricsService } from './metrics/metrics.service.js';

/** Global setup shared by main.ts and the e2e tests, so that they cannot drift. */
export function configureApp(
  app: NestExpressApplication,
  options: Pick<AppOptions, 'port' | 'trustProxy' | 'metrics' | 'logLevel'>,
): NestExpressApplication {
  app.disable('x-powered-by');
  // Every answer is live and marked no-store: hashing each body for an ETag is wasted work.
  app.set('etag', false);
  // Only the balancers named in TRUST_PROXY may say who the client is.
  app.set('trust proxy', [...options.trustProxy]);
  app.setBaseViewsDir(join(PROJECT_ROOT, 'views'));
  app.setViewEngine('hbs');
  // Middleware rather than interceptors: they also reach 404s and errors thrown before a handler.
  const servedBy = `${options.port}:${process.pid}`;
  app.use(servedByHeader(servedBy), securityHeaders(), requestId());
  // With both off, nothing observes requests at all (the figure `npm run bench` compares).
  if (options.metrics || options.logLevel !== 'silent') {
    app.use(
      observeRequests(
        app.get(MetricsService),
        app.get<Logger>(APP_LOGGER),
        servedBy,
      ),
    );
  }
  app.useGlobalFilters(new NotFoundFilter());
  return app;
}
