import { ConflictError } from './errors.ts';
import type { Processor, Purchase, SiteSettings } from './types.ts';

/**
 * Rule 17: each site bills through its own processor account. A site connects its Stripe account (Stripe
 * Connect, `stripeAccountId`) and its PayPal merchant (`paypalMerchantId`); `native` is the platform's own
 * Stripe account and `none` calls nothing. The account a purchase is billed through is copied onto it when
 * it is linked (`processorAccount`), so every later call and every webhook is checked against the account
 * that really holds the subscription, even if the site connects another account later.
 */

/** The site setting that connects each processor that bills through the site's own account. */
export const ACCOUNT_SETTING = { stripe: 'stripeAccountId', paypal: 'paypalMerchantId' } as const;
export type ConnectedProcessor = keyof typeof ACCOUNT_SETTING;

export function billsThroughSiteAccount(processor: Processor): processor is ConnectedProcessor {
  return processor === 'stripe' || processor === 'paypal';
}

/** The account a site has connected for `processor`, or null (also for `none` and `native`). */
export function connectedAccount(
  settings: Pick<SiteSettings, 'stripeAccountId' | 'paypalMerchantId'>,
  processor: Processor,
): string | null {
  if (!billsThroughSiteAccount(processor)) return null;
  return settings[ACCOUNT_SETTING[processor]] ?? null;
}

/**
 * The account to bill a new `processor` purchase through: the site's connected one. A site that has not
 * connected one cannot bill through that processor (409 naming the setting).
 */
export function requireConnectedAccount(
  settings: Pick<SiteSettings, 'stripeAccountId' | 'paypalMerchantId'>,
  processor: Processor,
): string | null {
  if (!billsThroughSiteAccount(processor)) return null;
  const account = connectedAccount(settings, processor);
  if (!account) {
    const setting = ACCOUNT_SETTING[processor];
    throw new ConflictError(
      `the site has no ${processor === 'stripe' ? 'Stripe account' : 'PayPal merchant'} connected: set ${setting} in the site settings to bill through ${processor}`,
      [{ field: setting, message: 'not set in the site settings' }],
    );
  }
  return account;
}

/**
 * The account the processor calls for `purchase` act on. Purchases linked before accounts were recorded
 * have none: they use the site's connected account (`settings`, read only for them).
 */
export function billingAccount(
  purchase: Pick<Purchase, 'processor' | 'processorAccount'>,
  settings: Pick<SiteSettings, 'stripeAccountId' | 'paypalMerchantId'> | null,
): string | null {
  if (!billsThroughSiteAccount(purchase.processor)) return null;
  if (purchase.processorAccount) return purchase.processorAccount;
  return requireConnectedAccount(settings ?? { stripeAccountId: null, paypalMerchantId: null }, purchase.processor);
}

/**
 * Why a webhook from `eventAccount` must not touch `purchase`, or null when it may. Stripe Connect events
 * carry the connected account (`event.account`); the platform's own events (`native`) carry none. A PayPal
 * event names a merchant only in some resources; when it names one it must be the purchase's.
 */
export function foreignAccountReason(
  purchase: Pick<Purchase, 'processor' | 'processorAccount'>,
  eventAccount: string | null,
): string | null {
  if (purchase.processor === 'native') {
    return eventAccount ? `the event comes from connected account ${eventAccount}, not the platform's account` : null;
  }
  if (purchase.processor === 'stripe') {
    if (!purchase.processorAccount) return null;
    return eventAccount === purchase.processorAccount
      ? null
      : `the event comes from ${eventAccount ? `account ${eventAccount}` : "the platform's account"}, not the purchase's account ${purchase.processorAccount}`;
  }
  if (purchase.processor === 'paypal') {
    if (!purchase.processorAccount || !eventAccount) return null;
    return eventAccount === purchase.processorAccount
      ? null
      : `the event names merchant ${eventAccount}, not the purchase's merchant ${purchase.processorAccount}`;
  }
  return null;
}
