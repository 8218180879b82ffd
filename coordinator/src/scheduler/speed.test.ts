import { describe, expect, it } from 'vitest';
import { SpeedBook } from './speed.ts';

const policy = { leaseMs: 60_000, leaseMargin: 3, leaseFloorMs: 10_000 };

describe('SpeedBook', () => {
  it('gives a new contributor the job lease', () => {
    expect(new SpeedBook().leaseMs('c1', 320, policy)).toBe(60_000);
  });

  it('follows the measured speed with a margin and a floor once two units are measured', () => {
    const book = new SpeedBook();
    book.measure('slow', 100, 10_000); // 10 samples/s
    book.measure('slow', 100, 10_000);
    book.measure('fast', 1000, 100); // 10000 samples/s
    book.measure('fast', 1000, 100);
    expect(book.leaseMs('slow', 320, policy)).toBe(96_000); // 3 x 32 s: longer than leaseMs
    expect(book.leaseMs('fast', 320, policy)).toBe(10_000); // the floor
  });

  it('lets one measured unit lengthen a lease but not shorten it', () => {
    const book = new SpeedBook();
    book.measure('fast', 1000, 100);
    expect(book.leaseMs('fast', 320, policy)).toBe(60_000);
    book.measure('slow', 100, 10_000);
    expect(book.leaseMs('slow', 320, policy)).toBe(96_000);
  });

  it('lets a reported speed lengthen a lease but never shorten it', () => {
    const book = new SpeedBook();
    book.report('quick', 1e6);
    expect(book.leaseMs('quick', 320, policy)).toBe(60_000);
    book.report('crawl', 2); // 160 s for the unit: 3 x that
    expect(book.leaseMs('crawl', 320, policy)).toBe(480_000);
  });

  it('prefers measured speed over what a tab reports, and caps the stretch', () => {
    const book = new SpeedBook();
    book.report('c', 1e6);
    book.measure('c', 1, 1_000_000);
    expect(book.samplesPerSec('c')).toBeCloseTo(0.001);
    expect(book.leaseMs('c', 320, policy)).toBe(60_000 * 20);
  });
});
