// The kernel's side in the thread that draws: it imports nothing of Node's, so the pool's
// threads load no more than they use (compiling it is count-kernel.ts, in the main thread).
import { RANDOM_MAX, RANDOM_MIN } from './count.js';

/** What count.wat exports. */
interface CountExports {
  memory: WebAssembly.Memory;
  count(n: number, s0: number, s1: number, s2: number, s3: number): void;
}

/** Same contract as countRandoms: `counts[v]` for v in 1..1000, index 0 unused. */
export type Counter = (n: number, seed: Uint32Array) => Uint32Array;

/** Largest n for one call: a bucket is a u32. */
export const WASM_MAX_N = 2 ** 32 - 1;

/** An instance of the kernel (64 KiB of memory) in the calling thread. */
export function wasmCounter(module: WebAssembly.Module): Counter {
  const wasm = new WebAssembly.Instance(module, {})
    .exports as unknown as CountExports;
  const buckets = new Uint32Array(
    wasm.memory.buffer,
    0,
    RANDOM_MAX - RANDOM_MIN + 1,
  );
  return (n, seed) => {
    if (!(Number.isInteger(n) && n >= 0 && n <= WASM_MAX_N)) {
      throw new RangeError(`n must be an integer from 0 to ${WASM_MAX_N}`);
    }
    wasm.count(n, seed[0], seed[1], seed[2], seed[3]);
    const counts = new Uint32Array(RANDOM_MAX + 1);
    counts.set(buckets, RANDOM_MIN);
    return counts;
  };
}
