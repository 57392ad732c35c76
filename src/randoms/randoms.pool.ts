import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Provider } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Piscina } from 'piscina';
import { appConfig } from '../config/app.config.js';
import { PROJECT_ROOT } from '../config/paths.js';

export const RANDOMS_POOL = Symbol('RANDOMS_POOL');

/**
 * Worker threads run compiled JavaScript. Under ts-jest this module is the
 * TypeScript source, so the e2e tests use the build (`npm test` builds first).
 */
const COUNT_WORKER_FILE = import.meta.url.endsWith('.ts')
  ? join(PROJECT_ROOT, 'dist', 'randoms', 'count.worker.js')
  : fileURLToPath(new URL('./count.worker.js', import.meta.url));

/** One pool per serving process, its threads started up front and reused by every request. */
export const randomsPoolProvider: Provider = {
  provide: RANDOMS_POOL,
  inject: [appConfig.KEY],
  useFactory: (config: ConfigType<typeof appConfig>): Piscina =>
    new Piscina({
      filename: COUNT_WORKER_FILE,
      minThreads: config.poolThreads,
      maxThreads: config.poolThreads,
      resourceLimits: {
        maxYoungGenerationSizeMb: 1,
        maxOldGenerationSizeMb: 16,
      },
    }),
};
