import type { DomainEvent } from '../domain/events.ts';
import { type Explanation, explainAccess, type PurchaseRecord } from '../domain/explain.ts';
import type { Purchase } from '../domain/types.ts';
import type { Dependencies } from './deps.ts';

/**
 * Use case card: explain an access decision (DESIGN.md §2.1 Explain, rule 14).
 * In: site, customer, product, the instant asked about (`at`, default now) and now. Out: the verdict with every
 * purchase that grants the product, the facts that decided each and the timed changes still ahead.
 * Main course: one strongly consistent Query of the customer's purchase copies (the access check's read),
 * then one Query per purchase that grants the product for its event log (more pages only for a long log),
 * all logs read in parallel; the decision is the pure `explainAccess`, whose verdict is `productAccess`.
 * An unknown customer has no purchases: `not_purchased` with no grants, like the access check.
 */
export async function explainProductAccess(
  deps: Pick<Dependencies, 'purchases'>,
  siteId: string,
  customerId: string,
  productId: string,
  at: Date | null,
  now: Date,
): Promise<Explanation> {
  const purchases = await deps.purchases.getCustomerPurchases(siteId, customerId);
  // A purchase's product list is copied from the offer when it is bought and never changes afterwards.
  const granting = purchases.filter((purchase) => purchase.products.some((grant) => grant.productId === productId));
  const records = await Promise.all(
    granting.map(
      async (purchase): Promise<PurchaseRecord> => ({ current: purchase, events: await eventLog(deps, purchase) }),
    ),
  );
  return explainAccess(records, productId, at ?? now, now);
}

/**
 * A purchase's events in sequence order. A page holds up to `EVENT_PAGE` events; each carries the purchase
 * snapshot (a few KB), so DynamoDB's 1 MB per Query is the real bound and a long log takes a few Queries.
 */
const EVENT_PAGE = 1000;

async function eventLog(deps: Pick<Dependencies, 'purchases'>, purchase: Purchase): Promise<DomainEvent[]> {
  const events: DomainEvent[] = [];
  let cursor: string | null = null;
  do {
    const page = await deps.purchases.listEvents(
      purchase.siteId,
      { purchaseId: purchase.purchaseId },
      EVENT_PAGE,
      cursor,
    );
    events.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return events;
}
