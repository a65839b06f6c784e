import { isId } from '../domain/ids.ts';
import type { SubscriptionState } from '../domain/processor-events.ts';

/**
 * How membergate writes its values into PayPal's fields and reads them back: the `custom_id` that links a
 * PayPal subscription to a site, offer and customer, and PayPal's decimal money strings.
 */

/** PayPal's limit for a subscription's `custom_id`. */
export const CUSTOM_ID_MAX = 127;

/**
 * `custom_id` for a PayPal subscription created by membergate: `${siteId}:${offerId}:${customerId}`. membergate ids
 * may themselves contain `:`; such a colon is written `%3A` (and `%` as `%25`) so the three parts stay apart, while
 * ordinary ids appear unchanged. Throws when the result exceeds PayPal's 127 characters.
 */
export function formatPayPalCustomId(link: { siteId: string; offerId: string; customerId: string }): string {
  const escapePart = (part: string) => part.replaceAll('%', '%25').replaceAll(':', '%3A');
  const value = [link.siteId, link.offerId, link.customerId].map(escapePart).join(':');
  if (value.length > CUSTOM_ID_MAX) throw new RangeError(`PayPal custom_id exceeds ${CUSTOM_ID_MAX} characters`);
  return value;
}

/**
 * The inverse of formatPayPalCustomId; null for anything absent or malformed (never a partial result). Each part
 * must follow the API's id rule (shared/domain/ids.ts), so a webhook never creates what the API cannot read.
 */
export function parsePayPalCustomId(value: unknown): { siteId: string; offerId: string; customerId: string } | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > CUSTOM_ID_MAX) return null;
  const parts = value.split(':');
  if (parts.length !== 3) return null;
  const decoded: string[] = [];
  for (const part of parts) {
    if (/%(?!25|3A)/i.test(part)) return null;
    const plain = part.replace(/%3A/gi, ':').replace(/%25/g, '%');
    if (!isId(plain)) return null;
    decoded.push(plain);
  }
  const [siteId, offerId, customerId] = decoded as [string, string, string];
  return { siteId, offerId, customerId };
}

/** Currencies PayPal does not allow decimals for (PayPal currency codes reference). */
const ZERO_DECIMAL = new Set(['HUF', 'JPY', 'TWD']);

/**
 * A PayPal decimal string (`"29.00"`, `"-0.01"`, `"1000"`) → integer minor units of `currency` (absolute value:
 * refunds arrive negative). Exact: no floating point. Null when unreadable or beyond a safe integer.
 */
export function payPalAmountToMinor(value: unknown, currency: string): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const match = /^-?(\d*)(?:\.(\d*))?$/.exec(String(value).trim());
  if (!match || (!match[1] && !match[2])) return null;
  const digits = ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : 2;
  const whole = match[1] || '0';
  const fraction = (match[2] ?? '').padEnd(digits, '0');
  // Digits beyond the currency's precision are rounded half up.
  const kept = fraction.slice(0, digits);
  const roundUp = (fraction[digits] ?? '0') >= '5' ? 1 : 0;
  const minor = Number(whole) * 10 ** digits + Number(kept || '0') + roundUp;
  return Number.isSafeInteger(minor) ? minor : null;
}

/** Non-negative integer minor units → PayPal's decimal string for `currency` (`2900` → `"29.00"`). */
export function minorToPayPalAmount(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`not an amount in minor units: ${minor}`);
  if (ZERO_DECIMAL.has(currency.toUpperCase())) return String(minor);
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}

/** The fields of a PayPal subscription resource that say its state (a webhook's `resource`, or a GET of it). */
export interface PayPalSubscriptionFields {
  start_time?: string | null;
  billing_info?: { next_billing_time?: string | null; last_payment?: { time?: string | null } | null } | null;
}

/**
 * A PayPal subscription `status` in membergate's terms, or null for one that has no meaning here (APPROVAL_PENDING,
 * APPROVED). PayPal cannot schedule a future end, so `cancelAt` is always null. Shared by the webhook translator
 * and the adapter's read (reconciliation), so both normalise a subscription the same way.
 */
export function payPalSubscriptionState(
  status: string | null | undefined,
  resource: PayPalSubscriptionFields,
): SubscriptionState | null {
  const base: SubscriptionState = {
    status: 'active',
    currentPeriodStart: resource.billing_info?.last_payment?.time ?? resource.start_time ?? null,
    currentPeriodEnd: resource.billing_info?.next_billing_time ?? null,
    cancelAt: null,
    cancelAtPeriodEnd: false,
    accessEnds: 'now',
    resumesAt: null,
  };
  switch (status) {
    case 'ACTIVE':
      return base;
    case 'SUSPENDED':
      return { ...base, status: 'paused' };
    // Billing stopped; access lasts to the end of the cycle already paid (rule 9). Real CANCELLED deliveries
    // omit next_billing_time: currentPeriodEnd is then null and the purchase keeps the period end it recorded.
    case 'CANCELLED':
      return { ...base, status: 'canceled', accessEnds: 'period_end' };
    case 'EXPIRED':
      return { ...base, status: 'canceled', accessEnds: 'now' };
    default:
      return null;
  }
}
