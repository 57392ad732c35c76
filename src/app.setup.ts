import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AppOptions } from './config/app-options.js';
import { PROJECT_ROOT } from './config/paths.js';
import { NotFoundFilter } from './common/filters/not-found.filter.js';
import { APP_LOGGER, type Logger } from './common/logging/logger.js';
import { hookRequests } from './common/http/request-hooks.js';
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
  // With metrics off and LOG_LEVEL silent, nothing observes requests at all
  // (the figure `npm run bench` compares).
  hookRequests(app.getHttpServer(), {
    servedBy: `${options.port}:${process.pid}`,
    metrics: options.metrics ? app.get(MetricsService) : undefined,
    logger: app.get<Logger>(APP_LOGGER),
  });
  app.useGlobalFilters(new NotFoundFilter());
  return app;
}
