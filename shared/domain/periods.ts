import type { BillingInterval, Instant } from './types.ts';

/**
 * Billing-period arithmetic in UTC. Months and years are calendar steps counted from an anchor, with the
 * day clamped to the month's last day (Jan 31 → Feb 28 → Mar 31), as Stripe bills: computing every boundary
 * from the anchor instead of from the previous boundary keeps the 31st from drifting to the 28th.
 */
export function addIntervals(anchor: Instant, interval: BillingInterval, count: number): Instant {
  const date = new Date(anchor);
  if (interval === 'day' || interval === 'week') {
    const days = interval === 'day' ? count : count * 7;
    return new Date(date.getTime() + days * 86_400_000).toISOString();
  }
  const months = interval === 'month' ? count : count * 12;
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const targetYear = year + Math.floor(month / 12);
  const targetMonth = ((month % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(targetYear, targetMonth + 1, 0)).getUTCDate();
  const day = Math.min(date.getUTCDate(), lastDay);
  return new Date(
    Date.UTC(
      targetYear,
      targetMonth,
      day,
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
      date.getUTCMilliseconds(),
    ),
  ).toISOString();
}

export interface Cadence {
  interval: BillingInterval;
  intervalCount: number;
}

/** The k-th boundary after `anchor` (k = 0 is the anchor itself). */
export function boundary(anchor: Instant, cadence: Cadence, k: number): Instant {
  return addIntervals(anchor, cadence.interval, cadence.intervalCount * k);
}
