import { describe, expect, it } from '@jest/globals';
import { BadRequestException } from '@nestjs/common';
import { parseAppOptions } from '../config/app-options.js';
import { ParseCantPipe } from './parse-cant.pipe.js';

const pipe = new ParseCantPipe(
  parseAppOptions([], { RANDOMS_MAX_CANT: '1000000000' }),
);

describe('ParseCantPipe', () => {
  it('defaults to 100,000,000 draws', () => {
    expect(pipe.transform({})).toBe(100_000_000);
  });

  it.each([
    ['1', 1],
    ['1000', 1000],
    ['0042', 42],
    ['1000000000', 1_000_000_000],
  ])('accepts cant=%s', (cant, n) => {
    expect(pipe.transform({ cant })).toBe(n);
  });

  it.each([
    '0',
    '-5',
    '1000000001',
    '1e3',
    '0x10',
    '1.5',
    ' 1',
    '+1',
    '',
    'NaN',
    'Infinity',
    '١٢٣',
    '9'.repeat(5000),
  ])('rejects cant=%j', (cant) => {
    expect(() => pipe.transform({ cant })).toThrow(
      new BadRequestException('cant must be an integer from 1 to 1000000000'),
    );
  });

  it('rejects a repeated cant and unknown parameters', () => {
    expect(() => pipe.transform({ cant: ['1', '2'] })).toThrow(
      'cant must be given once',
    );
    expect(() => pipe.transform({ 'cant[]': '1' })).toThrow(
      'only the query parameter cant is accepted',
    );
  });

  it('follows a configured maximum', () => {
    const small = new ParseCantPipe(
      parseAppOptions([], { RANDOMS_MAX_CANT: '500' }),
    );
    expect(small.transform({ cant: '500' })).toBe(500);
    expect(() => small.transform({ cant: '501' })).toThrow(
      'cant must be an integer from 1 to 500',
    );
    expect(small.transform({})).toBe(500);
  });
});
