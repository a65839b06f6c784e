/**
 * Key design. Every partition key starts with the site, so a query can never cross tenants.
 *
 * | item                  | pk                                 | sk                          |
 * | --------------------- | ---------------------------------- | --------------------------- |
 * | site settings         | SITE#s                             | SETTINGS                    |
 * | product / offer       | SITE#s                             | PRODUCT#p / OFFER#o         |
 * | customer              | SITE#s#CUSTOMER#c                  | PROFILE                     |
 * | customer's purchase   | SITE#s#CUSTOMER#c                  | PURCHASE#id  (access copy)  |
 * | purchase              | SITE#s#PURCHASE#id                 | PURCHASE                    |
 * | purchase history/event| SITE#s#PURCHASE#id                 | HISTORY#<version>#<n>       |
 * | idempotency key       | SITE#s#PURCHASE#id                 | IDEMPOTENCY#<scope>#<key>   |
 * | upcoming change entry | SITE#s#PURCHASE#id                 | UPCOMING#access_period_ends |
 * | processor subscription| PROCESSOR#<proc>#SUB#<subId>       | LINK  (→ siteId, purchaseId)|
 * | processor event seen  | PROCESSOR#<proc>#EVENT#<eventId>   | EVENT                       |
 * | webhook endpoint      | SITE#s                             | WEBHOOK_ENDPOINT#e          |
 * | webhook endpoint count| SITE#s                             | WEBHOOK_ENDPOINTS           |
 * | webhook delivery job  | SITE#s#WEBHOOK#e                   | JOB#<eventId>               |
 * | webhook delivery log  | SITE#s#WEBHOOK#e                   | DELIVERY#<due>#<eventId>#<n>|
 * | bulk job                 | SITE#s#BULK_JOBS                | JOB#<jobId>  (ulid: newest last) |
 * | bulk job Idempotency-Key | SITE#s#BULK_JOBS                | IDEMPOTENCY#<key>           |
 * | bulk job page            | SITE#s#JOB#<jobId>              | PAGE#<n, 10 digits>         |
 * | bulk job purchase marker | SITE#s#JOB#<jobId>              | ITEM#<purchaseId>           |
 * | reconciliation job       | SITE#s#RECONCILIATIONS          | JOB#<jobId>  (ulid: newest last) |
 * | reconciliation Idempotency-Key | SITE#s#RECONCILIATIONS    | IDEMPOTENCY#<key>           |
 * | reconciliation page / marker | SITE#s#JOB#<jobId>          | PAGE#<n> / ITEM#<purchaseId> (as bulk jobs) |
 * | local timer (local only) | LOCAL#SCHEDULER                 | SCHEDULE#<name>             |
 * | local queue message (local only) | LOCAL#QUEUE#<queue>     | MESSAGE#<visibleAt>#<id>    |
 * | stream checkpoint (local) | LOCAL#STREAM                   | CHECKPOINT#<consumer>#<shard> |
 *
 * Processor ids are global by nature (a webhook may not say which site it is for), so the two PROCESSOR#
 * items are the only keys without a site prefix: they hold nothing but the site and purchase they point to.
 *
 * The customer's copy of each purchase lets an access check be one strongly consistent Query of one
 * partition; it is written in the same transaction as the purchase, so the two never disagree.
 *
 * Timed changes (the calendar and the sweeper's due index). A purchase can have two changes ahead at once:
 * the one its status implies (a renewal or installment while billing, a cancellation taking effect while
 * pending, a pause ending while paused — never two of these) and an access period ending. The first is
 * carried by the purchase item itself (in `upcomingChange`), so the commonest changes rewrite only the
 * purchase; the second is a small item beside the purchase (`UPCOMING#access_period_ends`), put or deleted in
 * the purchase's own transaction. Both carry the keys of two sparse indexes:
 *
 * | index | partition                              | sort                          | who reads it          |
 * | ----- | -------------------------------------- | ----------------------------- | --------------------- |
 * | gsi5  | SITE#s#UPCOMING#<UTC day>              | <at>#<purchaseId>#<type>      | the site's calendar   |
 * | gsi3  | DUE#<UTC hour>#<shard 00..07>          | <at>#<siteId>#<purchaseId>#<type> | the sweeper (only the three timed actions) |
 *
 * Numbers (DESIGN.md §6: 100 000 sites, 50 M purchases, 2 M timed changes on the busiest day):
 * - Calendar: one partition per site and UTC day. The busiest day's 2 M changes spread over every site that
 *   has any; even a site holding 1 M monthly subscriptions has ~1 M / 30 ≈ 33 000 renewals a day in its own
 *   partition, written when each renewal is recorded (~0.4 writes/s on average, far below the 1 000 writes/s a
 *   partition takes). A 30-day window walks 31 partitions; a page walks at most `UPCOMING_DAYS_PER_PAGE` and
 *   its cursor remembers the day and the last key, so no request scans the year.
 * - Sweeper: one partition per UTC hour and shard (8), the shard a hash of (site, purchase). The busiest day's
 *   2 M due items are ~83 000 an hour on average, ~10 000 per partition; if a third of the day fell in one
 *   hour (local midnights of the largest time zone) that is 670 000 / 8 ≈ 84 000 per partition, and deleting
 *   them as timers apply them within ~5 minutes is ~280 writes/s per partition, under the 1 000 writes/s one
 *   partition takes. Entries are written when the action is scheduled (days before), spread likewise. The
 *   sweeper reads 8 partitions per hour of its lookback (24 h: 200 small Queries per run, 8 in parallel).
 */
const SEP = '#';

export const keys = {
  site: (siteId: string) => `SITE${SEP}${siteId}`,
  settings: (siteId: string) => ({ pk: keys.site(siteId), sk: 'SETTINGS' }),
  product: (siteId: string, productId: string) => ({ pk: keys.site(siteId), sk: `PRODUCT${SEP}${productId}` }),
  offer: (siteId: string, offerId: string) => ({ pk: keys.site(siteId), sk: `OFFER${SEP}${offerId}` }),
  customerPartition: (siteId: string, customerId: string) => `${keys.site(siteId)}${SEP}CUSTOMER${SEP}${customerId}`,
  customer: (siteId: string, customerId: string) => ({ pk: keys.customerPartition(siteId, customerId), sk: 'PROFILE' }),
  customerPurchasePrefix: 'PURCHASE#',
  customerPurchase: (siteId: string, customerId: string, purchaseId: string) => ({
    pk: keys.customerPartition(siteId, customerId),
    sk: `PURCHASE${SEP}${purchaseId}`,
  }),
  purchasePartition: (siteId: string, purchaseId: string) => `${keys.site(siteId)}${SEP}PURCHASE${SEP}${purchaseId}`,
  purchase: (siteId: string, purchaseId: string) => ({
    pk: keys.purchasePartition(siteId, purchaseId),
    sk: 'PURCHASE',
  }),
  historyPrefix: 'HISTORY#',
  /** Zero-padded so that sort order is version order: history reads oldest first. */
  history: (siteId: string, purchaseId: string, version: number, index: number) => ({
    pk: keys.purchasePartition(siteId, purchaseId),
    sk: `HISTORY${SEP}${String(version).padStart(10, '0')}${SEP}${String(index).padStart(3, '0')}`,
  }),
  /** A caller's Idempotency-Key, kept beside the purchase it guards so it is written in the same transaction. */
  idempotency: (siteId: string, purchaseId: string, scope: string, key: string) => ({
    pk: keys.purchasePartition(siteId, purchaseId),
    sk: `IDEMPOTENCY${SEP}${scope}${SEP}${key}`,
  }),
  processorLink: (processor: string, subscriptionId: string) => ({
    pk: `PROCESSOR${SEP}${processor}${SEP}SUB${SEP}${subscriptionId}`,
    sk: 'LINK',
  }),
  processorEvent: (processor: string, eventId: string) => ({
    pk: `PROCESSOR${SEP}${processor}${SEP}EVENT${SEP}${eventId}`,
    sk: 'EVENT',
  }),
  byOffer: (siteId: string, offerId: string, createdAt: string, purchaseId: string) => ({
    gsi1pk: `${keys.site(siteId)}${SEP}OFFER${SEP}${offerId}`,
    gsi1sk: `${createdAt}${SEP}${purchaseId}`,
  }),
  offerPurchasesPartition: (siteId: string, offerId: string) => `${keys.site(siteId)}${SEP}OFFER${SEP}${offerId}`,
  subscriptionsPartition: (siteId: string) => `${keys.site(siteId)}${SEP}SUBSCRIPTIONS`,
  byStatus: (siteId: string, status: string, createdAt: string, purchaseId: string) => ({
    gsi2pk: keys.subscriptionsPartition(siteId),
    gsi2sk: `${status}${SEP}${createdAt}${SEP}${purchaseId}`,
  }),
  siteEventsPartition: (siteId: string) => `${keys.site(siteId)}${SEP}EVENTS`,
  /** A site's events in time order; the purchase and sequence make equal instants distinct and ordered. */
  bySiteEvents: (siteId: string, occurredAt: string, purchaseId: string, sequence: number) => ({
    gsi4pk: keys.siteEventsPartition(siteId),
    gsi4sk: `${occurredAt}${SEP}${purchaseId}${SEP}${String(sequence).padStart(10, '0')}`,
  }),
  /** A timed change the status does not imply (an access period ending): a small item beside the purchase. */
  upcomingEntry: (siteId: string, purchaseId: string, type: string) => ({
    pk: keys.purchasePartition(siteId, purchaseId),
    sk: `UPCOMING${SEP}${type}`,
  }),
  upcomingEntryPrefix: 'UPCOMING#',
  /** A site's calendar: one partition per UTC day (`YYYY-MM-DD`), so a big site's year is 366 partitions. */
  upcomingPartition: (siteId: string, day: string) => `${keys.site(siteId)}${SEP}UPCOMING${SEP}${day}`,
  byUpcoming: (siteId: string, at: string, purchaseId: string, type: string) => ({
    gsi5pk: keys.upcomingPartition(siteId, at.slice(0, 10)),
    gsi5sk: `${at}${SEP}${purchaseId}${SEP}${type}`,
  }),
  /** How many write shards each hour of the due index has (see the numbers above). Changing it orphans entries. */
  dueShards: 8,
  /** The shard of a purchase's due entries: FNV-1a of (site, purchase), stable across processes and runtimes. */
  dueShard: (siteId: string, purchaseId: string): number => {
    let hash = 0x811c9dc5;
    for (const char of `${siteId}${SEP}${purchaseId}`) {
      hash ^= char.charCodeAt(0);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash % keys.dueShards;
  },
  /** `hour` is `YYYY-MM-DDTHH` (UTC). */
  duePartition: (hour: string, shard: number) => `DUE${SEP}${hour}${SEP}${String(shard).padStart(2, '0')}`,
  /** Due timed actions of every site, bucketed per UTC hour and write-sharded: only the system sweeper reads it. */
  byDue: (dueAt: string, siteId: string, purchaseId: string, type: string) => ({
    gsi3pk: keys.duePartition(dueAt.slice(0, 13), keys.dueShard(siteId, purchaseId)),
    gsi3sk: `${dueAt}${SEP}${siteId}${SEP}${purchaseId}${SEP}${type}`,
  }),
  webhookEndpointPrefix: 'WEBHOOK_ENDPOINT#',
  /** Beside the site's catalog: a site has a handful, read once per event by the fan-out. */
  webhookEndpoint: (siteId: string, endpointId: string) => ({
    pk: keys.site(siteId),
    sk: `WEBHOOK_ENDPOINT${SEP}${endpointId}`,
  }),
  /** How many endpoints the site has: created and deleted in the endpoint's own transaction, so the cap holds. */
  webhookEndpointCount: (siteId: string) => ({ pk: keys.site(siteId), sk: 'WEBHOOK_ENDPOINTS' }),
  /** One partition per endpoint for its jobs and delivery log: a busy endpoint never shares a hot key. */
  webhookPartition: (siteId: string, endpointId: string) => `${keys.site(siteId)}${SEP}WEBHOOK${SEP}${endpointId}`,
  /** One job per (event, endpoint): its key is what makes a redelivered event create nothing. */
  deliveryJob: (siteId: string, endpointId: string, eventId: string) => ({
    pk: keys.webhookPartition(siteId, endpointId),
    sk: `JOB${SEP}${eventId}`,
  }),
  deliveryLogPrefix: 'DELIVERY#',
  /** Sorted by due time, so the log reads newest first with one reverse Query. */
  deliveryAttempt: (siteId: string, endpointId: string, scheduledFor: string, eventId: string, attempt: number) => ({
    pk: keys.webhookPartition(siteId, endpointId),
    sk: `DELIVERY${SEP}${scheduledFor}${SEP}${eventId}${SEP}${String(attempt).padStart(3, '0')}`,
  }),
  /**
   * A site's bulk jobs, one partition per site: the list is one reverse Query, and each job item is written
   * once per page (its counters), never once per purchase.
   */
  bulkJobsPartition: (siteId: string) => `${keys.site(siteId)}${SEP}BULK_JOBS`,
  bulkJobPrefix: 'JOB#',
  bulkJob: (siteId: string, jobId: string) => ({ pk: keys.bulkJobsPartition(siteId), sk: `JOB${SEP}${jobId}` }),
  bulkJobIdempotency: (siteId: string, key: string) => ({
    pk: keys.bulkJobsPartition(siteId),
    sk: `IDEMPOTENCY${SEP}${key}`,
  }),
  /** A site's reconciliation jobs, laid out as its bulk jobs (their pages and markers share `jobPartition`). */
  reconciliationsPartition: (siteId: string) => `${keys.site(siteId)}${SEP}RECONCILIATIONS`,
  reconciliation: (siteId: string, jobId: string) => ({
    pk: keys.reconciliationsPartition(siteId),
    sk: `JOB${SEP}${jobId}`,
  }),
  reconciliationIdempotency: (siteId: string, key: string) => ({
    pk: keys.reconciliationsPartition(siteId),
    sk: `IDEMPOTENCY${SEP}${key}`,
  }),
  /** One partition per job for its pages and per-purchase markers: jobs never share a hot key. */
  jobPartition: (siteId: string, jobId: string) => `${keys.site(siteId)}${SEP}JOB${SEP}${jobId}`,
  jobPage: (siteId: string, jobId: string, page: number) => ({
    pk: keys.jobPartition(siteId, jobId),
    sk: `PAGE${SEP}${String(page).padStart(10, '0')}`,
  }),
  jobMarkerPrefix: 'ITEM#',
  jobMarker: (siteId: string, jobId: string, purchaseId: string) => ({
    pk: keys.jobPartition(siteId, jobId),
    sk: `ITEM${SEP}${purchaseId}`,
  }),
  /** Only the local runtime's queue stand-in writes these; on AWS, SQS keeps messages. */
  localQueuePartition: (queue: string) => `LOCAL${SEP}QUEUE${SEP}${queue}`,
  /** By the instant the message becomes visible: the due ones are one range Query. */
  localQueueMessage: (queue: string, visibleAt: string, messageId: string) => ({
    pk: keys.localQueuePartition(queue),
    sk: `MESSAGE${SEP}${visibleAt}${SEP}${messageId}`,
  }),
  /** Only the local runtime's scheduler stand-in writes these; on AWS, EventBridge Scheduler keeps timers. */
  localSchedulePartition: 'LOCAL#SCHEDULER',
  localSchedule: (name: string) => ({ pk: 'LOCAL#SCHEDULER', sk: `SCHEDULE#${name}` }),
  /** Only the local stream poller writes these; on AWS, Lambda's event source mapping keeps its position. */
  localCheckpoint: (consumer: string, shardId: string) => ({
    pk: 'LOCAL#STREAM',
    sk: `CHECKPOINT${SEP}${consumer}${SEP}${shardId}`,
  }),
} as const;
