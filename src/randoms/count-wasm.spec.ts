import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { assembleCountWasm, COUNT_WASM } from '../../scripts/build-wasm.js';
import { compileCountKernel } from './count-kernel.js';
import { wasmCounter, WASM_MAX_N } from './count-wasm.js';
import { countRandoms, RANDOM_MAX } from './count.js';

describe('count.wasm', () => {
  let count: ReturnType<typeof wasmCounter>;

  beforeAll(() => {
    count = wasmCounter(compileCountKernel().module);
  });

  it('is exactly what count.wat assembles to (npm run build writes it)', async () => {
    expect(new Uint8Array(readFileSync(COUNT_WASM))).toEqual(
      await assembleCountWasm(),
    );
  });

  it('draws exactly what countRandoms draws, for the same seed', () => {
    const seeds = [
      [1, 2, 3, 4],
      [0xffffffff, 0x80000000, 7, 0x12345678],
    ];
    for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 999, 1000, 123_457, 3_000_001]) {
      for (const words of seeds) {
        const seed = Uint32Array.from(words);
        expect(count(n, seed)).toEqual(countRandoms(n, seed));
      }
    }
  });

  it('returns counts for 1..1000 with index 0 unused, adding up to n', () => {
    const counts = count(10_000, Uint32Array.of(5, 6, 7, 8));
    expect(counts).toHaveLength(RANDOM_MAX + 1);
    expect(counts[0]).toBe(0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('starts every call from zero counts', () => {
    const seed = Uint32Array.of(9, 8, 7, 6);
    count(50_000, seed);
    expect(count(7, seed).reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('measures how fast it draws here', () => {
    const { drawsPerMs } = compileCountKernel();
    // Between a very slow machine (1e4/ms) and a fast one's core (1e7/ms).
    expect(drawsPerMs).toBeGreaterThan(1e4);
    expect(drawsPerMs).toBeLessThan(1e7);
  });

  it('rejects an n it cannot count exactly', () => {
    for (const n of [-1, 1.5, NaN, WASM_MAX_N + 1])
      expect(() => count(n, Uint32Array.of(1, 2, 3, 4))).toThrow(RangeError);
  });
});
