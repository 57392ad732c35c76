import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { freshSeed } from './count.js';
import { type Counter, wasmCounter } from './count-wasm.js';

/** Assembled from count.wat (scripts/build-wasm.ts); beside this module in src/ and dist/. */
const COUNT_WASM_FILE = fileURLToPath(new URL('./count.wasm', import.meta.url));

/** The kernel, compiled, and how fast it draws on this machine. */
export interface CountKernel {
  module: WebAssembly.Module;
  /** Draws per millisecond of one thread, measured at start-up. */
  drawsPerMs: number;
}

/** Draws of the start-up measurement: about a millisecond. */
const CALIBRATION_DRAWS = 2_000_000;

/**
 * Compiles count.wasm once, straight to optimised (TurboFan) code, and
 * measures its speed here: the figure the pool starts from before it has
 * measured its own threads (draw-queue.ts).
 *
 * V8 first compiles wasm with its baseline compiler (Liftoff, 4-7x slower here)
 * and swaps in optimised code only for calls that start after the background
 * tier-up: a single long call, as a task is, would run baseline code to the
 * end. With Liftoff off while compiling, and one call made (Node >= 22
 * compiles each function at its first call), the code is optimised from the
 * start; it lives in the Module, which the pool's threads receive and use
 * without compiling anything. The flag is process-wide: it is put back at
 * once, so any other wasm (undici's parser) compiles as usual.
 */
export function compileCountKernel(
  bytes: Uint8Array = readFileSync(COUNT_WASM_FILE),
): CountKernel {
  setFlagsFromString('--no-liftoff');
  let count: Counter;
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
    count = wasmCounter(module);
    count(3, freshSeed());
  } finally {
    setFlagsFromString('--liftoff');
  }
  const started = performance.now();
  count(CALIBRATION_DRAWS, freshSeed());
  const ms = Math.max(performance.now() - started, 0.01);
  return { module, drawsPerMs: CALIBRATION_DRAWS / ms };
}
