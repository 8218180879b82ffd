import { describe, expect, it } from 'vitest';
import { SpeedBook } from './speed.ts';

const policy = { leaseMs: 60_000, leaseMargin: 3, leaseFloorMs: 5000 };

describe('SpeedBook', () => {
  it('gives a new contributor the job lease', () => {
    expect(new SpeedBook().leaseMs('c1', 320, policy)).toBe(60_000);
  });

  it('follows the measured speed with a margin and a floor', () => {
    const book = new SpeedBook();
    book.measure('slow', 100, 10_000); // 10 samples/s
    book.measure('fast', 1000, 100); // 10000 samples/s
    expect(book.leaseMs('slow', 320, policy)).toBe(96_000); // 3 x 32 s: longer than leaseMs
    expect(book.leaseMs('fast', 320, policy)).toBe(5000); // the floor
  });

  it('prefers measured speed over what a tab reports, and caps the stretch', () => {
    const book = new SpeedBook();
    book.report('c', 1e6);
    expect(book.leaseMs('c', 320, policy)).toBe(5000);
    book.measure('c', 1, 1_000_000);
    expect(book.samplesPerSec('c')).toBeCloseTo(0.001);
    expect(book.leaseMs('c', 320, policy)).toBe(60_000 * 20);
  });
});
