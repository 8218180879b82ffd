import { describe, expect, it } from 'vitest';
import { plainDecimal, toCell } from './column-profile.ts';
import { DistinctCounter64, hash64, hashAsciiCells } from './row-hash.ts';

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

describe('DistinctCounter64', () => {
  it('counts what a set of the pairs counts, past the size it expected, with (0, 0) as (0, 1)', () => {
    let seed = 7;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const counter = new DistinctCounter64(100);
    const reference = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      // Few distinct first lanes in some rows, so partitions fill unevenly and repeats are common.
      const h0 = i % 3 === 0 ? (next() % 64) << 24 : next();
      const h1 = next() % 20_000;
      counter.add(h0, h1);
      reference.add(`${h0}:${h1}`);
    }
    counter.add(0, 0);
    counter.add(0, 1);
    reference.add('0:1');
    expect(counter.added).toBe(50_002);
    expect(counter.distinct()).toBe(reference.size);
    expect(counter.distinct()).toBeLessThan(counter.added);
  });
});
