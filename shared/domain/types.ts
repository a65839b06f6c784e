/** ISO-8601 UTC instant, e.g. `2026-11-21T10:00:00.000Z`. Every stored and returned instant has this form. */
export type Instant = string;

/** A calendar day, `YYYY-MM-DD`, meaningful only with a time zone (rule 15; ./local-time.ts). */
export type LocalDate = string;

/** The day an admin gave and the site time zone it was read in: shown beside the instant it became. */
export interface LocalDay {
  date: LocalDate;
  timezone: string;
}

export type Role = 'admin' | 'support' | 'automation' | 'customer';

/** Who did something (DESIGN.md §1). Stored on grants and history entries. */
export type Actor =
  | { type: 'admin'; email: string }
  | { type: 'support'; email: string | null }
  | { type: 'automation'; id: string }
  | { type: 'customer'; customerId: string }
  | { type: 'processor'; processor: Processor; eventId: string | null }
  | { type: 'system'; reason: SystemReason };

export type SystemReason =
  | 'access_period_ended'
  | 'cancellation_effective'
  | 'processor_ended'
  | 'pause_ended'
  /** An integrator webhook endpoint was disabled after a delivery failed for a day (`webhook_endpoint.disabled`). */
  | 'webhook_deliveries_failed';

export interface SiteSettings {
  siteId: string;
  selfCancelEnabled: boolean;
  timezone: string;
  /** The site's Stripe account (Stripe Connect, `acct_…`) that `stripe` purchases bill through (rule 17). */
  stripeAccountId: string | null;
  /** The site's PayPal merchant id that `paypal` purchases bill through (rule 17). */
  paypalMerchantId: string | null;
}

export interface Product {
  siteId: string;
  productId: string;
  name: string;
  description: string | null;
  archivedAt: Instant | null;
  updatedAt: Instant;
}

export type BillingInterval = 'day' | 'week' | 'month' | 'year';

export type Price =
  | { type: 'free' }
  | { type: 'one_time'; amount: number; currency: string }
  | {
      type: 'payment_plan';
      amount: number;
      currency: string;
      installments: number;
      interval: BillingInterval;
      intervalCount: number;
    }
  | { type: 'subscription'; amount: number; currency: string; interval: BillingInterval; intervalCount: number };

export type PurchaseKind = Price['type'];

export interface Offer {
  siteId: string;
  offerId: string;
  name: string;
  productIds: string[];
  price: Price;
  /** Access ends this many days after purchase (rule 10). */
  accessDays: number | null;
  archivedAt: Instant | null;
  updatedAt: Instant;
}

export interface Customer {
  siteId: string;
  customerId: string;
  /** Null only for a customer first seen in a processor webhook that did not carry an email. */
  email: string | null;
  name: string | null;
  updatedAt: Instant;
}

export type Processor = 'none' | 'native' | 'stripe' | 'paypal';

export type PurchaseStatus = 'active' | 'pending_cancellation' | 'paused' | 'past_due' | 'canceled' | 'completed';

export type CancelWhen = 'now' | 'period_end' | 'date';

export interface Cancellation {
  when: CancelWhen;
  effectiveAt: Instant;
  requestedBy: Actor;
  requestedAt: Instant;
  /**
   * The processor has already stopped billing (a PayPal CANCELLED): when the cancellation takes effect
   * only access ends; nothing is called at the processor.
   */
  billingStopped?: boolean;
  /** The day the admin picked (rule 15), when `effectiveAt` came from a day rather than an instant. */
  localDay?: LocalDay | null;
}

export interface Pause {
  pausedAt: Instant;
  resumesAt: Instant | null;
  /** The day billing stays paused through (rule 15), when `resumesAt` came from a day. */
  localDay?: LocalDay | null;
}

/** One product of a purchase. The product list is copied from the offer at purchase time. */
export interface Grant {
  productId: string;
  access: 'active' | 'revoked';
  revokedAt: Instant | null;
  revokedBy: Actor | null;
  label: string | null;
  /** The bulk job whose revocation this is (absent or null otherwise): what its undo may give back. */
  revokedByJob?: string | null;
}

export interface Installments {
  paid: number;
  total: number;
}

export interface Refund {
  refundId: string;
  amount: number;
  currency: string;
  at: Instant;
  by: Actor;
  processorRefundId: string | null;
  /** The payment it gave money back from (processor payment id, or membergate's own for `none`); absent on old records. */
  paymentId?: string | null;
}

/** One payment as the processor records it: what a refund can give back at most is `amount` less what was refunded of it. */
export interface RefundablePayment {
  paymentId: string;
  amount: number;
  currency: string;
  /** What the processor says was already refunded of it, when it says; otherwise membergate's own refunds count. */
  refunded: number | null;
}

export interface Purchase {
  purchaseId: string;
  siteId: string;
  customerId: string;
  offerId: string;
  processor: Processor;
  processorSubscriptionId: string | null;
  /**
   * The processor account holding the subscription (a Stripe `acct_…`, a PayPal merchant id), copied from
   * the site's settings when the purchase was linked; null for `none` and `native` (rule 17). Absent on
   * purchases linked before accounts were recorded: those use the site's connected account.
   */
  processorAccount?: string | null;
  kind: PurchaseKind;
  /** The offer's price when it was bought; later offer edits do not change what this customer pays. */
  price: Price;
  status: PurchaseStatus;
  currentPeriodStart: Instant | null;
  currentPeriodEnd: Instant | null;
  installments: Installments | null;
  cancellation: Cancellation | null;
  pause: Pause | null;
  /** End of the offer's access period (`accessDays` after purchase), if the offer has one (rule 10). */
  accessPeriodEndsAt: Instant | null;
  /** The instant from which no product of this purchase is accessible: the earliest of the access period and a cancellation. */
  accessEndsAt: Instant | null;
  products: Grant[];
  refunds: Refund[];
  /** The processor's timestamp of the last subscription state applied: older deliveries cannot undo newer ones. */
  processorSyncedAt?: Instant | null;
  /** Processor payment ids already counted (bounded), so a payment reported by two events counts once. */
  paymentIds?: string[];
  /** How many domain events this purchase has had: the sequence of its latest (domain/events.ts). */
  eventSequence?: number;
  createdAt: Instant;
  updatedAt: Instant;
  version: number;
}

/** Every kind of history entry, which is also every domain event type (DESIGN.md §5). */
export const HISTORY_TYPES = [
  'purchase.granted',
  'access.revoked',
  'access.resumed',
  'cancellation.requested',
  'cancellation.stopped',
  'cancellation.effective',
  'billing.paused',
  'billing.unpaused',
  'billing.updated',
  'access.period_ended',
  'refund.created',
  'payment.succeeded',
  'payment.failed',
] as const;

export type HistoryType = (typeof HISTORY_TYPES)[number];

export interface HistoryEntry {
  at: Instant;
  type: HistoryType;
  actor: Actor;
  label?: string;
  details: Record<string, unknown>;
}

/** A state change of one purchase: the new state and what to append to its history, written together. */
export interface PurchaseChange {
  purchase: Purchase;
  history: HistoryEntry[];
}
