import cluster from 'node:cluster';
import net from 'node:net';
import type { Server, ServerResponse } from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../app.module.js';
import { configureApp } from '../app.setup.js';
import { createLogger, type Logger } from '../common/logging/logger.js';
import { NestLogger } from '../common/logging/nest-logger.js';
import type { AppOptions } from '../config/app-options.js';
import { Readiness } from '../health/readiness.service.js';
import { describeRole } from './process-role.js';

const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
/**
 * How long a draining process keeps accepting, answering with `Connection:
 * close` (and 503 on /readyz, for probes), before it stops listening.
 */
const KEEP_ALIVE_SETTLE_MS = 500;
/** How long it then gives the connections it accepted last to send their request. */
const ACCEPTED_SETTLE_MS = 250;
/**
 * How long a cluster worker stays after it stopped listening and drained: a
 * connection its primary handed it meanwhile is still on its way over IPC,
 * and only a live worker can send it back to be given to another one. Exiting
 * at once reset such connections (a PM2 reload lost a request so; a bare
 * node:cluster rig lost 4 in 60 replacements, none with this wait).
 */
const HANDOFF_SETTLE_MS = 100;

/** Runs one Nest application: a FORK server or one worker of a cluster. */
export async function runServer(options: AppOptions): Promise<void> {
  const logger = await createLogger({
    level: options.logLevel,
    format: options.logFormat,
    base: { role: describeRole() },
  });
  // No route takes a request body: none is parsed (nor its parsers loaded).
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(options, logger),
    { bodyParser: false, bufferLogs: true },
  );
  app.useLogger(new NestLogger(logger));
  configureApp(app, options);
  drainOnSignals(app, options.graceMs, logger);
  try {
    await (options.host === undefined
      ? app.listen(options.port)
      : app.listen(options.port, options.host));
  } catch (error) {
    logger.error(
      `cannot listen on port ${options.port}: ${(error as Error).message}`,
    );
    await app.close();
    process.exit(1);
  }
  // In a cluster of ours, the primary says it once for all its workers.
  const listening = `listening on ${listeningOn(options)} as ${describeRole()} (pid ${process.pid})`;
  if (cluster.isWorker) logger.debug(listening);
  else logger.info(listening);
  // PM2's wait_ready waits for this message before it counts the process as online.
  process.send?.('ready');
}

function listeningOn({ host, port }: AppOptions): string {
  if (host === undefined) return `http://127.0.0.1:${port} (every interface)`;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Like `app.enableShutdownHooks()`, but exits 0 once drained instead of
 * re-raising the signal, so that cluster primaries, PM2 and forever see a clean
 * stop; and a stuck request cannot hold the process past the grace period.
 */
function drainOnSignals(
  app: NestExpressApplication,
  graceMs: number,
  logger: Logger,
): void {
  const readiness = app.get(Readiness);
  let draining = false;
  const closeKeepAlive = closeKeepAliveOnDrain(app.getHttpServer());
  const drain = (signal: NodeJS.Signals): void => {
    // Process managers often signal twice (nodemon, PM2's tree kill, a cluster
    // worker hit by its primary and by the terminal): the listener stays, so a
    // repeat cannot kill the process mid-drain; the grace timer bounds the wait.
    if (draining) return;
    draining = true;
    readiness.startDraining();
    logger.info(`${signal}: draining in-flight requests (grace ${graceMs} ms)`);
    setTimeout(() => {
      logger.error(`still busy after ${graceMs} ms, exiting anyway`);
      process.exit(1);
    }, graceMs).unref();
    // A keep-alive client that keeps its connection busy gets one more answer,
    // saying `Connection: close`, before app.close() closes every connection it
    // finds idle: closing one the moment its last answer went out loses the
    // request the client is already sending on it.
    closeKeepAlive();
    const close = (): void => {
      app.close().then(
        () => exitAfterHandoffs(0),
        (error: Error) => {
          logger.error(`shutdown failed: ${error.message}`);
          exitAfterHandoffs(1);
        },
      );
    };
    // Then stop accepting, without http's close(): since Node 26 that also
    // closes a connection just accepted whose request has not been read yet
    // (a PM2 reload lost a request so). Those requests get time to arrive
    // before app.close() closes what is idle.
    const stopAccepting = (): void => {
      net.Server.prototype.close.call(app.getHttpServer());
      setTimeout(close, ACCEPTED_SETTLE_MS);
    };
    setTimeout(stopAccepting, Math.min(KEEP_ALIVE_SETTLE_MS, graceMs));
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, drain);
}

function exitAfterHandoffs(code: number): void {
  if (cluster.isWorker) setTimeout(() => process.exit(code), HANDOFF_SETTLE_MS);
  else process.exit(code);
}

/**
 * Returns the switch that makes every response from then on carry
 * `Connection: close`, the ones already being computed included. Node's
 * `server.close()` only closes idle keep-alive connections: a client that keeps
 * its connection busy would hold a draining process until the grace period
 * ends and then lose its request. Told to close, it reconnects to a process
 * that still accepts (another worker, another nginx peer).
 */
function closeKeepAliveOnDrain(server: Server): () => void {
  const open = new Set<ServerResponse>();
  let closing = false;
  const close = (res: ServerResponse): void => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  // Before Express's listener, which may answer at once.
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (closing) return close(res);
    open.add(res);
    res.once('close', () => open.delete(res));
  });
  return () => {
    closing = true;
    open.forEach(close);
  };
}
