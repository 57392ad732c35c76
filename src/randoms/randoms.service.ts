import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Piscina } from 'piscina';
import { APP_CONFIG } from '../config/app.config.js';
import type { AppOptions } from '../config/app-options.js';
import { addCounts, countsToObject, RANDOM_MAX } from './count.js';
import type { CountTask } from './count.worker.js';
import { RANDOMS_POOL } from './randoms.pool.js';

/** Below this many draws a job runs on one thread: handing out parts would cost more than it saves. */
export const SPLIT_THRESHOLD = 2_000_000;

/** Thrown when the process already holds as many jobs as it is allowed to. */
export class PoolSaturatedError extends Error {
  override readonly name = 'PoolSaturatedError';
}

@Injectable()
export class RandomsService implements OnApplicationShutdown {
  private pendingJobs = 0;

  constructor(
    @Inject(RANDOMS_POOL) private readonly pool: Piscina,
    @Inject(APP_CONFIG)
    private readonly config: AppOptions,
  ) {}

  get pending(): number {
    return this.pendingJobs;
  }

  /** Counts `n` draws in the pool, split across its threads; `signal` cancels every part. */
  async count(n: number, signal: AbortSignal): Promise<Record<string, number>> {
    if (this.pendingJobs >= this.config.maxPendingJobs) {
      throw new PoolSaturatedError(
        `the compute pool is busy with ${this.pendingJobs} requests; try again shortly`,
      );
    }
    this.pendingJobs++;
    try {
      const parts = await Promise.all(
        splitDraws(n, this.config.poolThreads).map(
          (size): Promise<Uint32Array> =>
            this.pool.run({ n: size } satisfies CountTask, { signal }),
        ),
      );
      return countsToObject(
        parts.reduce(addCounts, new Uint32Array(RANDOM_MAX + 1)),
      );
    } finally {
      this.pendingJobs--;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // Runs after the HTTP server has drained, so no request still waits on the pool.
    await this.pool.destroy();
  }
}

/** Splits `n` into at most `threads` near-equal parts that add up to `n`. */
export function splitDraws(n: number, threads: number): number[] {
  const parts = n < SPLIT_THRESHOLD ? 1 : Math.max(1, Math.min(threads, n));
  const base = Math.floor(n / parts);
  return Array.from(
    { length: parts },
    (_, i) => base + (i < n % parts ? 1 : 0),
  );
}
