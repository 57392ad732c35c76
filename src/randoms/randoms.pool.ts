import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Provider } from '@nestjs/common';
import { Piscina } from 'piscina';
import { APP_CONFIG } from '../config/app.config.js';
import type { AppOptions } from '../config/app-options.js';
import { PROJECT_ROOT } from '../config/paths.js';

export const RANDOMS_POOL = Symbol('RANDOMS_POOL');

/**
 * Worker threads run compiled JavaScript. Under ts-jest this module is the
 * TypeScript source, so the e2e tests use the build (`npm test` builds first).
 */
const COUNT_WORKER_FILE = import.meta.url.endsWith('.ts')
  ? join(PROJECT_ROOT, 'dist', 'randoms', 'count.worker.js')
  : fileURLToPath(new URL('./count.worker.js', import.meta.url));

/** Threads are kept while requests keep coming; an idle server gives their memory back. */
const POOL_IDLE_TIMEOUT_MS = 30_000;

/**
 * One pool per serving process, reused by every request. Threads start on
 * demand (~40 ms, once per burst) rather than up front: each holds ~9 MB that
 * an idle server, or each of a cluster's workers, would otherwise keep.
 */
export const randomsPoolProvider: Provider = {
  provide: RANDOMS_POOL,
  inject: [APP_CONFIG],
  useFactory: (config: AppOptions): Piscina =>
    new Piscina({
      filename: COUNT_WORKER_FILE,
      minThreads: 0,
      idleTimeout: POOL_IDLE_TIMEOUT_MS,
      maxThreads: config.poolThreads,
      resourceLimits: {
        maxYoungGenerationSizeMb: 1,
        maxOldGenerationSizeMb: 16,
      },
    }),
};
