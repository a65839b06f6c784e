import { describe, expect, it } from '@jest/globals';
import { addIntervals, boundary } from '../../shared/domain/periods.ts';

describe('billing periods', () => {
  it('a month after Jan 31 is the last day of February, and the anchor day comes back in March', () => {
    const anchor = '2026-01-31T12:00:00.000Z';
    const cadence = { interval: 'month' as const, intervalCount: 1 };
    expect([1, 2, 3].map((k) => boundary(anchor, cadence, k))).toEqual([
      '2026-02-28T12:00:00.000Z',
      '2026-03-31T12:00:00.000Z',
      '2026-04-30T12:00:00.000Z',
    ]);
  });

  it('leap years: a year after Feb 29 is Feb 28', () => {
    expect(addIntervals('2028-02-29T00:00:00.000Z', 'year', 1)).toBe('2029-02-28T00:00:00.000Z');
  });

  it('weeks and days are exact multiples of 24 h in UTC', () => {
    expect(addIntervals('2026-03-28T10:00:00.000Z', 'week', 2)).toBe('2026-04-11T10:00:00.000Z');
    expect(addIntervals('2026-03-28T10:00:00.000Z', 'day', 3)).toBe('2026-03-31T10:00:00.000Z');
  });

  it('intervalCount multiplies the step (quarterly)', () => {
    expect(boundary('2026-01-15T00:00:00.000Z', { interval: 'month', intervalCount: 3 }, 2)).toBe(
      '2026-07-15T00:00:00.000Z',
    );
  });

  it('crossing a year boundary keeps the time of day', () => {
    expect(addIntervals('2026-11-30T23:59:59.999Z', 'month', 3)).toBe('2027-02-28T23:59:59.999Z');
  });
});
