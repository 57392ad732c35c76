import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import { wasmCounter } from './count-wasm.js';

export interface CountTask {
  n: number;
  /** xoshiro128** state, drawn in the main thread: the thread loads no crypto. */
  seed: Uint32Array;
}

export interface CountResult {
  counts: Uint32Array;
  /** How long the draws took in the thread: the pool's measured rate (draw-queue.ts). */
  ms: number;
}

/** What randoms.pool.ts hands every thread. */
export interface CountWorkerData {
  countModule: WebAssembly.Module;
}

/**
 * Compute threads run a little below normal priority. On Linux the nice value
 * set from a thread applies to that thread only, so the event loop that
 * answers /api/info and /health is served first when every core is busy
 * drawing numbers; with idle cores nothing changes.
 */
const COMPUTE_NICE = 5;
try {
  setPriority(COMPUTE_NICE);
} catch {
  // Not allowed here (some sandboxes): run at normal priority.
}

const count = wasmCounter((workerData as CountWorkerData).countModule);

/** Runs inside a piscina worker thread. */
export default function run({ n, seed }: CountTask): CountResult {
  const started = performance.now();
  const counts = count(n, seed);
  return { counts, ms: performance.now() - started };
}
