import { describe, expect, it } from '@jest/globals';
import {
  addCounts,
  countRandoms,
  freshSeed,
  RANDOM_MAX,
  RANDOM_MIN,
} from './count.js';
import { countsToJson } from './counts-json.js';

const sum = (counts: Uint32Array): number => counts.reduce((a, b) => a + b, 0);

describe('countRandoms', () => {
  it('draws exactly n numbers, all in 1..1000', () => {
    for (const n of [1, 2, 999, 1000, 123_457]) {
      const counts = countRandoms(n);
      expect(sum(counts)).toBe(n);
      expect(counts[0]).toBe(0);
      expect(counts).toHaveLength(RANDOM_MAX + 1);
    }
  });

  it('reaches both ends of the range', () => {
    const counts = countRandoms(200_000);
    expect(counts[RANDOM_MIN]).toBeGreaterThan(0);
    expect(counts[RANDOM_MAX]).toBeGreaterThan(0);
  });

  it('is uniform: chi-squared over 1000 values stays under the 0.1% critical value', () => {
    const n = 5_000_000;
    // A fixed seed makes the figure reproducible; freshSeed() is covered below.
    const counts = countRandoms(
      n,
      new Uint32Array([0x9e3779b9, 0x243f6a88, 0xb7e15162, 0x12345678]),
    );
    const expected = n / RANGE;
    let chiSquared = 0;
    for (let v = RANDOM_MIN; v <= RANDOM_MAX; v++)
      chiSquared += (counts[v] - expected) ** 2 / expected;
    // 999 degrees of freedom: mean 999, the 99.9th percentile is about 1143.
    expect(chiSquared).toBeLessThan(1143);
    expect(chiSquared).toBeGreaterThan(850); // too even would be as suspicious as too uneven
  });

  it('is reproducible from a seed and differs between fresh seeds', () => {
    const seed = new Uint32Array([1, 2, 3, 4]);
    expect(countRandoms(10_000, seed)).toEqual(countRandoms(10_000, seed));
    expect(countRandoms(10_000)).not.toEqual(countRandoms(10_000));
  });

  it('never seeds with all zeros', () => {
    const seed = freshSeed();
    expect(seed).toHaveLength(4);
    expect(seed.some((word) => word !== 0)).toBe(true);
  });
});

const RANGE = RANDOM_MAX - RANDOM_MIN + 1;

describe('countsToJson / addCounts', () => {
  it('keeps only the values that came out, keyed "1".."1000"', () => {
    const counts = new Uint32Array(RANDOM_MAX + 1);
    counts[1] = 2;
    counts[1000] = 5;
    expect(countsToJson(counts)).toBe('{"1":2,"1000":5}');
    expect(countsToJson(new Uint32Array(RANDOM_MAX + 1))).toBe('{}');
  });

  it('writes what JSON.stringify writes, for counts of every length', () => {
    const plain = (counts: Uint32Array): string =>
      JSON.stringify(
        Object.fromEntries(
          [...counts.entries()].filter(([v, n]) => v > 0 && n > 0),
        ),
      );
    const counts = new Uint32Array(RANDOM_MAX + 1);
    for (let v = RANDOM_MIN; v <= RANDOM_MAX; v++) counts[v] = 10 ** (v % 10);
    counts[7] = 9;
    counts[8] = 99;
    counts[999] = 2 ** 32 - 1;
    expect(countsToJson(counts)).toBe(plain(counts));
    // The largest answer there is, and a smaller one after it in the same buffer.
    expect(countsToJson(counts.fill(2 ** 32 - 1, 1))).toBe(plain(counts));
    const few = countRandoms(1000);
    expect(countsToJson(few)).toBe(plain(few));
  });

  it('adds parts so that the sum is the sum of the parts', () => {
    const total = addCounts(countRandoms(1000), countRandoms(2345));
    expect(sum(total)).toBe(3345);
    const object = JSON.parse(countsToJson(total)) as Record<string, number>;
    expect(Object.values(object).reduce((a, b) => a + b, 0)).toBe(3345);
    expect(
      Object.keys(object).every(
        (key) => Number(key) >= 1 && Number(key) <= 1000,
      ),
    ).toBe(true);
  });
});
