import { ConcurrentModificationError, ConflictError, DuplicateProcessorEventError } from '../domain/errors.ts';
import { sequenceChange } from '../domain/events.ts';
import { grantOffer } from '../domain/grants.ts';
import { linkedPurchaseId } from '../domain/ids.ts';
import { connectedAccount, foreignAccountReason } from '../domain/processor-accounts.ts';
import type { IgnoredEvent, ProcessorEvent } from '../domain/processor-events.ts';
import { applyProcessorEvent } from '../domain/processor-sync.ts';
import { toInstant } from '../domain/time.ts';
import type { Actor, Processor, Purchase, PurchaseChange, SiteSettings } from '../domain/types.ts';
import { log } from '../log.ts';
import type { ProcessorEventRecord } from '../ports/processor-events.ts';
import type { RecentPurchases } from '../ports/recent-purchases.ts';
import type { Dependencies } from './deps.ts';
import { retryOnConflict } from './retry.ts';
import { syncTimers } from './timers.ts';

export type WebhookOutcome =
  | { outcome: 'applied' | 'created' | 'unchanged'; eventId: string; purchaseId: string }
  | { outcome: 'duplicate'; eventId: string }
  | { outcome: 'ignored'; eventId: string; reason: string };

/**
 * Use case card: a verified processor webhook (rule 9).
 * In: the translated event. Out: what happened, for the 200 answer. A delivery seen before changes nothing
 * (its id is written in the same transaction as its effect); concurrent deliveries of one event race on
 * that record and on the purchase version, so exactly one of them lands. Order is the processor's own
 * timestamps (processor-sync.ts), never arrival order. A purchase is created from the subscription's
 * metadata when the processor reports one membergate has not seen. With `recent` (the purchases this process
 * wrote last), a delivery for one of them writes without reading first, on condition of the copy's version.
 */
export async function handleProcessorEvent(
  deps: Dependencies,
  event: ProcessorEvent | IgnoredEvent,
  now: Date,
  recent?: RecentPurchases,
): Promise<WebhookOutcome> {
  if ('ignored' in event) {
    const recorded = await retryOnConflict(() =>
      deps.processorEvents.recordProcessorEvent(record(event, null, null, now, 'ignored')),
    );
    if (!recorded) return { outcome: 'duplicate', eventId: event.eventId };
    log.info('processor event ignored', {
      processor: event.processor,
      eventId: event.eventId,
      type: event.type,
      reason: event.reason,
    });
    return { outcome: 'ignored', eventId: event.eventId, reason: event.reason };
  }
  try {
    // After a lost race the purchase is read afresh: the remembered copy is tried on the first attempt only.
    return await retryOnConflict((n) => attemptOnce(deps, event, now, n === 1 ? recent : undefined, recent), {
      retryable: (error) => error instanceof ConcurrentModificationError || error instanceof LinkRaceError,
    });
  } catch (error) {
    if (error instanceof DuplicateProcessorEventError) return { outcome: 'duplicate', eventId: event.eventId };
    throw error;
  }
}

/** Another delivery created the purchase for this subscription first; the retry will find it. */
class LinkRaceError extends Error {}

function record(
  event: Pick<ProcessorEvent, 'processor' | 'eventId' | 'type'>,
  siteId: string | null,
  purchaseId: string | null,
  now: Date,
  outcome: string,
): ProcessorEventRecord {
  return {
    processor: event.processor,
    eventId: event.eventId,
    type: event.type,
    siteId,
    purchaseId,
    receivedAt: toInstant(now),
    outcome,
  };
}

/** Stripe events reach one endpoint whether the subscription is on the site's account or the platform's. */
function candidateProcessors(event: ProcessorEvent): Processor[] {
  return event.processor === 'paypal' ? ['paypal'] : ['stripe', 'native'];
}

async function findLinked(deps: Dependencies, event: ProcessorEvent) {
  for (const processor of candidateProcessors(event)) {
    const link = await deps.purchases.findByProcessorSubscription(processor, event.subscriptionId);
    if (link) return link;
  }
  return null;
}

/**
 * The purchase an event is about. An event that names its site is read with one GetItem: the purchase of a
 * processor subscription has an id derived from it (`linkedPurchaseId`), and its `processorSubscriptionId`
 * confirms it. Otherwise (no site in the payload, a site that does not hold it, or a purchase linked before
 * ids were derived) the global processor link says where it is.
 */
async function findPurchase(
  deps: Dependencies,
  event: ProcessorEvent,
): Promise<{ purchase: Purchase | null; linkedSite: string } | null> {
  if (event.siteId) {
    const direct = await deps.purchases.getPurchase(
      event.siteId,
      linkedPurchaseId(event.processor, event.subscriptionId),
    );
    if (direct && direct.processorSubscriptionId === event.subscriptionId && sameIdSpace(direct.processor, event)) {
      return { purchase: direct, linkedSite: direct.siteId };
    }
  }
  const link = await findLinked(deps, event);
  if (!link) return null;
  if (event.siteId && event.siteId !== link.siteId) return { purchase: null, linkedSite: link.siteId };
  return { purchase: await deps.purchases.getPurchase(link.siteId, link.purchaseId), linkedSite: link.siteId };
}

function sameIdSpace(processor: Processor, event: ProcessorEvent): boolean {
  return candidateProcessors(event).includes(processor);
}

/**
 * One delivery: at most one read in the common case (the purchase), then one transaction. A delivery seen
 * before is not looked up first: the event record is written in the same transaction as its effect, on
 * condition that it does not exist, so a duplicate fails that condition and answers `duplicate`.
 */
async function attemptOnce(
  deps: Dependencies,
  event: ProcessorEvent,
  now: Date,
  warm: RecentPurchases | undefined,
  recent: RecentPurchases | undefined,
): Promise<WebhookOutcome> {
  const remembered =
    warm && event.siteId ? warm.get(event.siteId, linkedPurchaseId(event.processor, event.subscriptionId)) : null;
  if (remembered && warm && remembered.processorSubscriptionId === event.subscriptionId) {
    const outcome = await applyToRemembered(deps, event, now, remembered, warm);
    if (outcome) return outcome;
  }
  const found = await findPurchase(deps, event);
  if (found?.purchase) recent?.remember(found.purchase);
  if (found) {
    if (event.siteId && event.siteId !== found.linkedSite) {
      log.warn('processor event names another site than its subscription', {
        eventId: event.eventId,
        siteId: event.siteId,
      });
      return ignore(deps, event, now, 'the subscription belongs to another site');
    }
    const purchase = found.purchase;
    if (!purchase) return ignore(deps, event, now, 'the linked purchase no longer exists');
    return applyToPurchase(deps, purchase, event, now, recent);
  }
  if (!event.link || !event.siteId) return ignore(deps, event, now, 'no purchase is linked to this subscription');
  return createFromProcessor(deps, event, event.siteId, event.link, now, recent);
}

/**
 * The warm path: apply the event to the copy this process wrote last, in one conditioned transaction and no
 * read. Null when the copy cannot decide alone: it was stale (the version condition failed; it is forgotten),
 * or the event changes nothing or must be refused, answers that are only given on a fresh read.
 */
async function applyToRemembered(
  deps: Dependencies,
  event: ProcessorEvent,
  now: Date,
  purchase: Purchase,
  recent: RecentPurchases,
): Promise<WebhookOutcome | null> {
  if (foreignAccountReason(purchase, event.account ?? null)) return null;
  const change = applyProcessorEvent(purchase, event, now);
  if (!change) return null;
  try {
    await save(deps, change, purchase, record(event, purchase.siteId, purchase.purchaseId, now, 'applied'), recent);
  } catch (error) {
    recent.forget(purchase.siteId, purchase.purchaseId);
    if (error instanceof ConcurrentModificationError) return null;
    throw error;
  }
  await syncTimers(deps.scheduler, purchase, change.purchase);
  return { outcome: 'applied', eventId: event.eventId, purchaseId: purchase.purchaseId };
}

/** One transaction conditioned on the version read; the purchase as stored is remembered for the next event. */
async function save(
  deps: Dependencies,
  change: PurchaseChange,
  before: Purchase,
  entry: ProcessorEventRecord,
  recent: RecentPurchases | undefined,
): Promise<void> {
  await deps.purchases.savePurchase(change, before.version, { processorEvent: entry, before });
  recent?.remember(sequenceChange(change).purchase);
}

/**
 * A processor event applied to the purchase it is about, as read: the webhook's rules (applyProcessorEvent),
 * the event's record in the same transaction as the change (conditioned on the version read and on the event
 * being new), then the timers. Also the path of a reconciliation's repair (shared/usecases/reconciliations.ts),
 * whose event id is the job's and the purchase's, so a repair lands once however often its page is redelivered.
 * Throws DuplicateProcessorEventError for an event recorded before, ConcurrentModificationError for a stale read.
 */
export async function applyToPurchase(
  deps: Dependencies,
  purchase: Purchase,
  event: ProcessorEvent,
  now: Date,
  recent?: RecentPurchases,
): Promise<WebhookOutcome> {
  // Rule 17: an event from another processor account than the one holding the subscription is never applied.
  const foreign = foreignAccountReason(purchase, event.account ?? null);
  if (foreign) return ignore(deps, event, now, foreign);
  const change = applyProcessorEvent(purchase, event, now);
  const entry = record(event, purchase.siteId, purchase.purchaseId, now, change ? 'applied' : 'unchanged');
  if (!change) {
    if (!(await deps.processorEvents.recordProcessorEvent(entry)))
      return { outcome: 'duplicate', eventId: event.eventId };
    return { outcome: 'unchanged', eventId: event.eventId, purchaseId: purchase.purchaseId };
  }
  await save(deps, change, purchase, entry, recent);
  await syncTimers(deps.scheduler, purchase, change.purchase);
  return { outcome: 'applied', eventId: event.eventId, purchaseId: purchase.purchaseId };
}

async function ignore(deps: Dependencies, event: ProcessorEvent, now: Date, reason: string): Promise<WebhookOutcome> {
  if (
    !(await deps.processorEvents.recordProcessorEvent(record(event, event.siteId, null, now, `ignored: ${reason}`)))
  ) {
    return { outcome: 'duplicate', eventId: event.eventId };
  }
  log.warn('processor event not applied', {
    processor: event.processor,
    eventId: event.eventId,
    type: event.type,
    reason,
  });
  return { outcome: 'ignored', eventId: event.eventId, reason };
}

async function createFromProcessor(
  deps: Dependencies,
  event: ProcessorEvent,
  siteId: string,
  link: { offerId: string; customerId: string },
  now: Date,
  recent: RecentPurchases | undefined,
): Promise<WebhookOutcome> {
  const [offer, settings] = await Promise.all([
    deps.catalog.getOffer(siteId, link.offerId),
    deps.catalog.getSettings(siteId),
  ]);
  if (!offer) return ignore(deps, event, now, `offer ${link.offerId} does not exist on site ${siteId}`);
  const account = accountForNewPurchase(event, settings);
  if ('refused' in account) return ignore(deps, event, now, account.refused);
  await deps.catalog.createCustomerIfMissing({
    siteId,
    customerId: link.customerId,
    email: null,
    name: null,
    updatedAt: toInstant(now),
  });
  const actor: Actor = { type: 'processor', processor: event.processor, eventId: event.eventId };
  const granted = grantOffer({
    purchaseId: linkedPurchaseId(event.processor, event.subscriptionId),
    customer: { siteId, customerId: link.customerId },
    offer,
    timezone: settings.timezone,
    processorAccount: account.account,
    processor: event.processor,
    processorSubscriptionId: event.subscriptionId,
    currentPeriodEnd: event.subscription?.currentPeriodEnd ?? null,
    actor,
    now,
  });
  // The processor reports each payment, the first one included: count from zero.
  const fresh = {
    ...granted.purchase,
    installments: granted.purchase.installments ? { ...granted.purchase.installments, paid: 0 } : null,
  };
  const applied = applyProcessorEvent(fresh, event, now);
  const change: PurchaseChange = {
    purchase: applied ? { ...applied.purchase, version: 1 } : fresh,
    history: [...granted.history, ...(applied?.history ?? [])],
  };
  try {
    await deps.purchases.createPurchase(change, record(event, siteId, fresh.purchaseId, now, 'created'));
  } catch (error) {
    if (error instanceof ConflictError && !(error instanceof ConcurrentModificationError)) throw new LinkRaceError();
    throw error;
  }
  recent?.remember(sequenceChange(change).purchase);
  await syncTimers(deps.scheduler, null, change.purchase);
  return { outcome: 'created', eventId: event.eventId, purchaseId: fresh.purchaseId };
}

/**
 * The account a purchase created from `event` is billed through (rule 17), or why the event may not create
 * one. A site that connected an account only takes events from it (Stripe Connect names it in
 * `event.account`); a site that connected none takes only the platform account's own events, whose
 * purchases bill on the platform's key as before accounts existed.
 */
function accountForNewPurchase(
  event: ProcessorEvent,
  settings: SiteSettings,
): { account: string | null } | { refused: string } {
  const connected = connectedAccount(settings, event.processor);
  const from = event.account ?? null;
  if (event.processor === 'paypal') {
    if (from && connected && from !== connected) {
      return { refused: `the event names merchant ${from}, not the site's merchant ${connected}` };
    }
    return { account: connected };
  }
  if (from === connected) return { account: connected };
  if (!connected)
    return { refused: `the event comes from account ${from}, but the site has no Stripe account connected` };
  return {
    refused: `the event comes from ${from ? `account ${from}` : "the platform's account"}, not the site's account ${connected}`,
  };
}
