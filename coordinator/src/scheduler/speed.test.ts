import { describe, expect, it } from 'vitest';
import { MEDIAN_REFRESH_MS, minTimedSteps, SpeedBook } from './speed.ts';

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

  it('sizes units against the recent tabs of the same job, within a quarter to twice the steps', () => {
    const book = new SpeedBook();
    for (let i = 0; i < 2; i++) {
      book.measure('crawl', 100, 1000); // 100 samples/s
      book.measure('crawl2', 100, 1000);
      book.measure('quick', 10_000, 1000); // 10,000
      book.measure('new', 1000, 1000);
    }
    expect(book.unitSteps('job', 'crawl', 40, 0)).toBe(40); // alone in the job
    expect(book.unitSteps('job', 'quick', 40, 500)).toBe(79); // 10,000 against a mean of 5,050
    book.unitSteps('job', 'crawl2', 40, 700);
    expect(book.unitSteps('job', 'quick', 40, 1000)).toBe(80); // 2.9x the mean: twice at most
    expect(book.unitSteps('job', 'crawl', 40, 2000)).toBe(10); // a quarter at least
    expect(book.unitSteps('other', 'quick', 40, 2000)).toBe(40); // another job's tabs are not peers
    // Two minutes without a lease and a tab is no longer a peer.
    expect(book.unitSteps('job', 'new', 40, 123_000)).toBe(40); // the others have lapsed
    expect(book.unitSteps('job', 'quick', 40, 125_000)).toBe(73); // 10,000 against a mean of 5,500
    expect(book.unitSteps('job', 'new', 40, 126_000)).toBe(10); // 0.18 of the mean
  });

  it("times units by the median training speed of the job's recent tabs, each tab fitting its own steps", () => {
    const book = new SpeedBook();
    // 40 steps of 10 samples: 400 samples a unit.
    expect(book.timedUnit('job', 'a', 40, 10, 0)).toBeNull(); // nothing measured yet
    for (let i = 0; i < 2; i++) {
      book.trained('job', 'a', 400, 1000); // 0.4 samples/ms
      book.trained('job', 'b', 400, 2000); // 0.2
      book.trained('job', 'c', 400, 4000); // 0.1
    }
    book.trained('job', 'd', 400, 100); // one unit only: not counted yet
    book.trained('other', 'z', 400, 10); // another job's
    book.timedUnit('job', 'b', 40, 10, 0);
    book.timedUnit('job', 'c', 40, 10, 0);
    book.timedUnit('job', 'd', 40, 10, 0);
    // Worked out again a second later, with every tab leased since: median 0.2 samples/ms, 2,000
    // ms for 400 samples; a fits 80 steps in it (twice the steps).
    expect(book.timedUnit('job', 'a', 40, 10, MEDIAN_REFRESH_MS)).toEqual({
      budgetMs: 2000,
      expectedSteps: 80,
    });
    expect(book.timedUnit('job', 'c', 40, 10, MEDIAN_REFRESH_MS)).toEqual({
      budgetMs: 2000,
      expectedSteps: 20,
    });
    // d's one unit does not count in the median, but says what d fits: 4 samples/ms would be
    // 800 steps, and a unit is twice the steps at most.
    expect(book.timedUnit('job', 'd', 40, 10, MEDIAN_REFRESH_MS)?.expectedSteps).toBe(80);
    expect(minTimedSteps(40)).toBe(10);
    // Tabs not leased a unit for two minutes leave the median: only c is left.
    expect(book.timedUnit('job', 'c', 40, 10, 122_000)).toEqual({ budgetMs: 4000, expectedSteps: 40 });
    // Nonsense claims are not recorded: e, unmeasured, fits the job's steps at the median.
    book.trained('job', 'e', 400, 0);
    book.trained('job', 'e', Number.NaN, 10);
    book.trained('job', 'e', 400, Number.POSITIVE_INFINITY);
    expect(book.timedUnit('job', 'e', 40, 10, 122_000)).toEqual({ budgetMs: 4000, expectedSteps: 40 });
  });

  it('works the median out at most once a refresh interval, at once while none is known, and forgets an ended job', () => {
    const book = new SpeedBook();
    expect(book.timedUnit('job', 'a', 40, 10, 0)).toBeNull();
    book.trained('job', 'a', 400, 1000);
    book.trained('job', 'a', 400, 1000); // 0.4 samples/ms, two units: known now, at once
    expect(book.timedUnit('job', 'a', 40, 10, 1)?.budgetMs).toBe(1000);
    // A slower tab's units move the median only once the interval has passed.
    for (let i = 0; i < 4; i++) book.trained('job', 'b', 400, 4000);
    book.timedUnit('job', 'b', 40, 10, 2);
    expect(book.timedUnit('job', 'a', 40, 10, 3)?.budgetMs).toBe(1000);
    // Median of 0.4 and 0.1: 0.25 samples/ms, 1,600 ms.
    expect(book.timedUnit('job', 'a', 40, 10, 1 + MEDIAN_REFRESH_MS)?.budgetMs).toBe(1600);
    expect(book.jobsKept).toBe(1);
    book.forgetJob('job');
    expect(book.jobsKept).toBe(0);
    expect(book.timedUnit('job', 'a', 40, 10, 2 + MEDIAN_REFRESH_MS)).toBeNull();
  });
});
