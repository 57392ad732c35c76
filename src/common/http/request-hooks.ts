import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { jsonLineWriter, type Logger } from '../logging/logger.js';
import type { MetricsService } from '../../metrics/metrics.service.js';

/** The safe defaults for a JSON API with one server-rendered page that has inline styles only. */
const SECURITY_HEADERS: readonly [string, string][] = Object.entries({
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
});
/** A caller's request id is kept only when it is a sane token: nothing else reaches a log line. */
const SANE_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** Paths no route matched share one label value, so hostile paths cannot grow the label set. */
const UNMATCHED = '(unmatched)';
/** A client that left before its answer: nginx's code for it. */
const CLIENT_CLOSED_REQUEST = 499;

declare module 'node:http' {
  interface IncomingMessage {
    /** X-Request-Id: the caller's (or nginx's), when sane, else a fresh UUID. */
    requestId?: string;
    /** When it arrived, on the performance.now() clock. */
    arrivedAt?: number;
  }
}

export interface RequestHooksOptions {
  /** `<port>:<pid>`, the X-Served-By of every answer. */
  servedBy: string;
  /** Counts every answered request, when metrics are on. */
  metrics?: MetricsService;
  /** Writes one line per request, when its level lets info through. */
  logger?: Logger;
}

/**
 * What every request gets, before Express sees it (so 404s and errors too):
 * X-Served-By (so balancing can be seen from outside), the security headers
 * and X-Request-Id; and once its answer has gone, one count and one log line:
 * method, matched route pattern, status, duration, servedBy, request id and
 * the client's address (as TRUST_PROXY lets X-Forwarded-For say it). A plain
 * listener on the HTTP server rather than Express middleware, and one shared
 * function per event rather than closures: on a small request, each layer and
 * allocation shows in the throughput.
 */
export function hookRequests(
  server: Server,
  { servedBy, metrics, logger }: RequestHooksOptions,
): void {
  const writeLine = logger?.isLevelEnabled('info')
    ? jsonLineWriter(logger)
    : undefined;
  const servedByJson = JSON.stringify(servedBy);
  const observing = metrics !== undefined || writeLine !== undefined;

  function answered(this: ServerResponse): void {
    const req = this.req as IncomingMessage & {
      route?: { path?: string };
      ip?: string;
    };
    const ms = performance.now() - (req.arrivedAt ?? 0);
    const route = req.route?.path ?? UNMATCHED;
    const status = this.writableFinished
      ? this.statusCode
      : CLIENT_CLOSED_REQUEST;
    metrics?.observe(req.method ?? '', route, status, ms / 1000);
    if (!writeLine) return;
    // Only a balancer's header needs the trust check (Express's req.ip).
    const address =
      req.headers['x-forwarded-for'] === undefined
        ? req.socket.remoteAddress
        : req.ip;
    writeLine(
      status >= 500 ? 'error' : 'info',
      `"method":${JSON.stringify(req.method ?? null)},"route":${JSON.stringify(route)},"status":${status},"durationMs":${Math.round(ms * 100) / 100},"servedBy":${servedByJson},"requestId":${JSON.stringify(req.requestId ?? null)},"remoteAddress":${JSON.stringify(address ?? null)}`,
      status >= 500 ? 'request failed' : 'request',
    );
  }

  server.prependListener(
    'request',
    (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id =
        typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
      req.requestId = id;
      res.setHeader('X-Served-By', servedBy);
      for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
      res.setHeader('X-Request-Id', id);
      if (observing) {
        req.arrivedAt = performance.now();
        res.on('close', answered);
      }
    },
  );
}
