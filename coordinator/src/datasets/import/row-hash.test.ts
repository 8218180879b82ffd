import { describe, expect, it } from 'vitest';
import { plainDecimal, toCell } from './column-profile.ts';
import { hash64, hashAsciiCells } from './row-hash.ts';

describe('hashAsciiCells', () => {
  const joined = (cells: unknown[]) =>
    Buffer.from(cells.map((c) => (typeof c === 'string' ? c : String(c ?? ''))).join('\x1f'), 'utf8');

  it('equals hash64 over the UTF-8 of the cells joined by 0x1f, for every tail length', () => {
    const rows: unknown[][] = [
      ['1', '2.5', 'USA'],
      ['', '', ''],
      ['a'],
      ['ab', 'c'],
      ['abc', 'de', 'f', ''],
      [12.5, null, undefined, 'x y z'],
      ['-0.75', '1e3', 'Biscoe', 'NA', '3181.40'],
    ];
    for (const row of rows)
      for (const seed of [0, 7]) expect(hashAsciiCells(row, seed)).toEqual(hash64(joined(row), seed));
  });

  it('gives null for a non-ASCII cell, so the caller hashes the encoded bytes', () => {
    expect(hashAsciiCells(['1', 'Zürich'])).toBeNull();
  });
});

describe('plainDecimal', () => {
  it('is Number(s) for plain decimals', () => {
    const cells = ['1', '-1', '3.07', '-12.50', '0.1', '0.30', '123456789012345', '99999.99999', '3181.40'];
    for (const s of cells) expect(plainDecimal(s)).toBe(Number(s));
  });

  it('leaves everything else to toCell (NaN)', () => {
    const cells = [
      '',
      '0',
      '-0',
      '0.00',
      '5.',
      '.5',
      '.',
      '-',
      '1e3',
      '+1',
      ' 1',
      '1,5',
      'NaN',
      'inf',
      '1234567890123456',
      'USA',
    ];
    for (const s of cells) expect(plainDecimal(s)).toBeNaN();
    // toCell still reads them: a zero keeps its sign, "5." is 5, a missing marker is null.
    expect(Object.is(toCell('-0'), -0)).toBe(true);
    expect(toCell('5.')).toBe(5);
    expect(toCell('NaN')).toBeNull();
  });
});
