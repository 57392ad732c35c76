import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Provider } from '@nestjs/common';
import { Piscina } from 'piscina';
import { APP_CONFIG } from '../config/app.config.js';
import type { AppOptions } from '../config/app-options.js';
import { PROJECT_ROOT } from '../config/paths.js';
import { compileCountKernel, type CountKernel } from './count-kernel.js';
import type { CountWorkerData } from './count.worker.js';

export const RANDOMS_POOL = Symbol('RANDOMS_POOL');
export const COUNT_KERNEL = Symbol('COUNT_KERNEL');

/**
 * Worker threads run compiled JavaScript. Under ts-jest this module is the
 * TypeScript source, so the e2e tests use the build (`npm test` builds first).
 */
const COUNT_WORKER_FILE = import.meta.url.endsWith('.ts')
  ? join(PROJECT_ROOT, 'dist', 'randoms', 'count.worker.js')
  : fileURLToPath(new URL('./count.worker.js', import.meta.url));

/**
 * One pool per serving process, reused by every request. Its threads start
 * with the process and stay: starting one takes 50-120 ms here, several times
 * a whole warm cant=1e8 request (~30 ms), so a pool that started threads on
 * demand, or let idle ones go, made the first request after a pause two to
 * three times slower. Each holds ~8 MiB; the kernel is wasm, compiled once in
 * this thread, so their JavaScript heaps stay at the minimum.
 */
export const randomsPoolProviders: Provider[] = [
  {
    provide: COUNT_KERNEL,
    useFactory: (): CountKernel => compileCountKernel(),
  },
  {
    provide: RANDOMS_POOL,
    inject: [APP_CONFIG, COUNT_KERNEL],
    useFactory: (config: AppOptions, kernel: CountKernel): Piscina =>
      new Piscina({
        filename: COUNT_WORKER_FILE,
        minThreads: config.poolThreads,
        maxThreads: config.poolThreads,
        idleTimeout: Infinity,
        workerData: {
          countModule: kernel.module,
        } satisfies CountWorkerData,
        resourceLimits: {
          maxYoungGenerationSizeMb: 1,
          maxOldGenerationSizeMb: 16,
        },
      }),
  },
];
