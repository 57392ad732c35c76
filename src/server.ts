import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import type { AppOptions } from './config/app-options.js';
import { describeRole } from './common/process-role.js';

const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** Starts one Nest application: a FORK server or one worker of a cluster. */
export async function startServer(options: AppOptions): Promise<void> {
  const logger = new Logger('Server');
  const app = await NestFactory.create<NestExpressApplication>(AppModule);
  configureApp(app, options);
  drainOnSignals(app, options.graceMs, logger);
  try {
    await app.listen(options.port);
  } catch (error) {
    logger.error(
      `cannot listen on port ${options.port}: ${(error as Error).message}`,
    );
    await app.close();
    process.exit(1);
  }
  logger.log(
    `listening on http://127.0.0.1:${options.port} as ${describeRole()} (pid ${process.pid})`,
  );
  // PM2's wait_ready waits for this message before it counts the process as online.
  process.send?.('ready');
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
  let draining = false;
  const drain = (signal: NodeJS.Signals): void => {
    // Process managers often signal twice (nodemon, PM2's tree kill, a cluster
    // worker hit by its primary and by the terminal): the listener stays, so a
    // repeat cannot kill the process mid-drain; the grace timer bounds the wait.
    if (draining) return;
    draining = true;
    logger.log(`${signal}: draining in-flight requests (grace ${graceMs} ms)`);
    setTimeout(() => {
      logger.error(`still busy after ${graceMs} ms, exiting anyway`);
      process.exit(1);
    }, graceMs).unref();
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error(`shutdown failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, drain);
}
