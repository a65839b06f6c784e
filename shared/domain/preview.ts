import { InvalidInputError } from './errors.ts';
import { boundary, type Cadence } from './periods.ts';
import type { Instant } from './types.ts';

export interface Charge {
  at: Instant;
  amount: number;
  currency: string;
  prorated: boolean;
}

/**
 * Rule 4, custom date beyond the current period: the customer is charged every renewal up to the date,
 * the last one prorated when the date cuts its cycle short.
 *
 * Renewals fall on the boundaries E0 = current period end, E1, E2, … A renewal at Ek is charged in full
 * when its whole cycle [Ek, Ek+1) ends on or before the date; the renewal whose cycle the date cuts is
 * prorated by time: amount × (date − Ek) / (Ek+1 − Ek), rounded half up to a whole minor unit (cent).
 * A date on or before E0 costs nothing more. Failed-payment retries are not previewed: they re-attempt
 * charges listed here, they do not add any.
 */
export function chargesUntil(
  periodEnd: Instant,
  cadence: Cadence,
  price: { amount: number; currency: string },
  cancelAt: Instant,
  /** A payment plan stops charging once paid off: the installments still due. Null for subscriptions. */
  remainingPayments: number | null = null,
  maxCharges = 1000,
): Charge[] {
  const end = Date.parse(cancelAt);
  const charges: Charge[] = [];
  for (let k = 0; ; k++) {
    const start = boundary(periodEnd, cadence, k);
    const startMs = Date.parse(start);
    if (startMs >= end) break;
    if (remainingPayments !== null && charges.length >= remainingPayments) break;
    if (charges.length >= maxCharges) {
      throw new InvalidInputError('the date is too far ahead', [
        { field: 'date', message: `would bill more than ${maxCharges} renewals` },
      ]);
    }
    const nextMs = Date.parse(boundary(periodEnd, cadence, k + 1));
    if (nextMs <= end) {
      charges.push({ at: start, amount: price.amount, currency: price.currency, prorated: false });
    } else {
      const amount = Math.round((price.amount * (end - startMs)) / (nextMs - startMs));
      charges.push({ at: start, amount, currency: price.currency, prorated: true });
    }
  }
  return charges;
}
