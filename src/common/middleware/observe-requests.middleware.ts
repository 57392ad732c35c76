import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logging/logger.js';
import type { MetricsService } from '../../metrics/metrics.service.js';

/** Paths no route matched share one label value, so hostile paths cannot grow the label set. */
const UNMATCHED = '(unmatched)';
const CLIENT_CLOSED_REQUEST = 499;

/**
 * One line and one count per request, once its answer has gone: method, the
 * matched route pattern, status, duration, who served it and its request id.
 * A single listener per request, and no child logger: on a small request this
 * is most of the cost of observing it.
 */
export function observeRequests(
  metrics: MetricsService,
  logger: Logger,
  servedBy: string,
) {
  const logging = logger.isLevelEnabled('info');
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.once('close', () => {
      const ms = performance.now() - started;
      const route =
        (req.route as { path?: string } | undefined)?.path ?? UNMATCHED;
      // A client that left before its answer: nginx's code for it.
      const status = res.writableFinished
        ? res.statusCode
        : CLIENT_CLOSED_REQUEST;
      metrics.observe(req.method, route, status, ms / 1000);
      if (!logging) return;
      const line = {
        method: req.method,
        route,
        status,
        durationMs: Math.round(ms * 100) / 100,
        servedBy,
        requestId: req.requestId,
        remoteAddress: req.ip,
      };
      if (status >= 500) logger.error(line, 'request failed');
      else logger.info(line, 'request');
    });
    next();
  };
}
