import { describe, expect, it } from '@jest/globals';
import { SPLIT_THRESHOLD, splitDraws } from './randoms.service.js';

describe('splitDraws', () => {
  it('keeps a small job whole', () => {
    expect(splitDraws(SPLIT_THRESHOLD - 1, 8)).toEqual([SPLIT_THRESHOLD - 1]);
  });

  it('splits a large job into near-equal parts that add up to n', () => {
    const parts = splitDraws(100_000_001, 4);
    expect(parts).toEqual([25_000_001, 25_000_000, 25_000_000, 25_000_000]);
  });

  it('uses one part per thread at most', () => {
    expect(splitDraws(1_000_000_000, 1)).toEqual([1_000_000_000]);
    expect(splitDraws(10_000_000, 2)).toHaveLength(2);
  });
});
