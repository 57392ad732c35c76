import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Piscina } from 'piscina';
import { APP_CONFIG } from '../config/app.config.js';
import type { AppOptions } from '../config/app-options.js';
import { addCounts, freshSeed, RANDOM_MAX } from './count.js';
import { type Counter, wasmCounter } from './count-wasm.js';
import type { CountResult, CountTask } from './count.worker.js';
import { DrawQueue, type Refusal } from './draw-queue.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { CountKernel } from './count-kernel.js';
import { COUNT_KERNEL, RANDOMS_POOL } from './randoms.pool.js';

/**
 * Up to this many draws a request is drawn on the event loop, by the same
 * kernel: handing a job to a thread and taking its result back costs about as
 * much as drawing this many here, ~50 µs (measured: see README, "How
 * /api/randoms stays fast"), which is as long as it holds the event loop.
 */
const INLINE_MAX_DRAWS = 100_000;
/** Below this many draws a job runs on one thread: handing out parts would cost more than it saves. */
export const SPLIT_THRESHOLD = 2_000_000;

/** Thrown when the work already queued would take longer than RANDOMS_MAX_QUEUE_MS. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';

  constructor(readonly refusal: Refusal) {
    super(
      `the compute queue holds ${(refusal.queuedMs / 1000).toFixed(1)} s of work; try again in ${retryAfterSeconds(refusal)} s`,
    );
  }
}

/** Retry-After in whole seconds, at least 1: when the queue is expected to have room. */
export function retryAfterSeconds({ retryAfterMs }: Refusal): number {
  return Math.max(1, Math.round(retryAfterMs / 1000));
}

@Injectable()
export class RandomsService implements OnApplicationShutdown {
  private readonly queue: DrawQueue;
  /** The kernel on the event loop, for requests too small for the pool. */
  private readonly countInline: Counter;

  constructor(
    @Inject(RANDOMS_POOL) private readonly pool: Piscina,
    @Inject(APP_CONFIG) private readonly config: AppOptions,
    @Inject(COUNT_KERNEL) kernel: CountKernel,
    private readonly metrics: MetricsService,
  ) {
    this.queue = new DrawQueue({
      maxQueueMs: config.maxQueueMs,
      maxHeld: config.maxPendingJobs,
      threads: config.poolThreads,
      drawsPerMs: kernel.drawsPerMs,
    });
    this.countInline = wasmCounter(kernel.module);
    metrics.trackJobsInFlight(() => this.queue.heldRequests);
  }

  /** Requests of this process waiting on the pool. */
  get pending(): number {
    return this.queue.heldRequests;
  }

  /**
   * Counts `n` draws at once, on the event loop, when that costs less than
   * the pool would; undefined when `n` is the pool's work.
   */
  countNow(n: number): Uint32Array | undefined {
    if (n > INLINE_MAX_DRAWS) return undefined;
    this.metrics.drawsTotal.inc(n);
    return this.countInline(n, freshSeed());
  }

  /** Counts `n` draws, split across the pool's threads; `signal` cancels every part. */
  async countOnPool(n: number, signal: AbortSignal): Promise<Uint32Array> {
    const refusal = this.queue.admit(n);
    if (refusal) {
      this.metrics.jobsRejected.inc();
      throw new QueueFullError(refusal);
    }
    const parts = splitDraws(n, this.config.poolThreads);
    let settled = 0;
    try {
      const counts = await Promise.all(
        parts.map(async (size) => {
          const task: CountTask = { n: size, seed: freshSeed() };
          const result = (await this.pool.run(task, { signal })) as CountResult;
          this.queue.settle(size, result.ms);
          this.metrics.drawsTotal.inc(size);
          settled += size;
          return result.counts;
        }),
      );
      return counts.reduce(addCounts, new Uint32Array(RANDOM_MAX + 1));
    } finally {
      // A cancelled or failed request leaves the queue with what it will never draw.
      this.queue.settle(n - settled);
      this.queue.release();
      if (signal.aborted) this.metrics.jobsCancelled.inc();
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
