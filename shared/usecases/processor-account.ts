import { billsThroughSiteAccount, connectedAccount } from '../domain/processor-accounts.ts';
import type { Purchase } from '../domain/types.ts';
import type { Dependencies } from './deps.ts';

/**
 * The purchase as the processor adapters need it: with the account its calls act on (rule 17;
 * `processorAccount`, which the Stripe adapter sends as `Stripe-Account` and the PayPal adapter as
 * `PayPal-Auth-Assertion`). Purchases linked before accounts were recorded use the site's connected account,
 * read only for them; a site that never connected one keeps billing on the platform's key (its purchases were
 * created by the platform account's own webhooks).
 */
export async function withBillingAccount(deps: Pick<Dependencies, 'catalog'>, purchase: Purchase): Promise<Purchase> {
  if (!billsThroughSiteAccount(purchase.processor) || purchase.processorAccount) return purchase;
  const settings = await deps.catalog.getSettings(purchase.siteId);
  return { ...purchase, processorAccount: connectedAccount(settings, purchase.processor) };
}
