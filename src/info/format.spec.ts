import { describe, expect, it } from '@jest/globals';
import { formatBytes, formatDuration } from './format.js';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [52_428_800, '50.0 MiB'],
    [3 * 1024 ** 3, '3.0 GiB'],
  ])('%d → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [59, '59 s'],
    [75, '1 min 15 s'],
    [3725, '1 h 2 min'],
  ])('%d s → %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
