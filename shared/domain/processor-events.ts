import type { Instant, Processor } from './types.ts';

/**
 * A processor webhook, verified and translated into membergate's terms by the processor's webhook adapter
 * (functions/webhook-stripe, functions/webhook-paypal). The rules that apply it (processor-sync.ts) know
 * nothing of Stripe or PayPal payloads.
 */
export interface ProcessorEvent {
  processor: Exclude<Processor, 'none'>;
  /** The processor's event id: a delivery seen before changes nothing. */
  eventId: string;
  /** The processor's own event type, recorded in history (`customer.subscription.updated`). */
  type: string;
  /**
   * When the processor produced this state (Stripe `event.created`, PayPal `resource.update_time` or
   * `create_time`). Out-of-order deliveries are resolved by this, never by arrival order.
   */
  occurredAt: Instant;
  /** The processor's subscription id (`sub_…`, `I-…`). */
  subscriptionId: string;
  /**
   * The processor account the event comes from (rule 17): Stripe Connect's `event.account` (absent on the
   * platform's own events), or the merchant a PayPal resource names (`payee.merchant_id`), when it names one.
   */
  account?: string | null;
  /**
   * Tenant, from the subscription's metadata (Stripe) or `custom_id` (PayPal). Null when the payload does
   * not carry it (some PayPal sale events): the purchase is then found by the processor subscription id.
   */
  siteId: string | null;
  /** Present when the purchase may have to be created from this event (metadata offerId/customerId). */
  link: { offerId: string; customerId: string } | null;
  /** The subscription's state as this event reports it, when it carries one. */
  subscription: SubscriptionState | null;
  /** A payment this event reports, when it carries one. */
  payment: PaymentReport | null;
  /**
   * The reconciliation job that read this state at the processor (a repair, shared/domain/reconciliation.ts);
   * absent on webhooks. Recorded in the history entries it causes.
   */
  jobId?: string;
}

export interface SubscriptionState {
  status: 'active' | 'past_due' | 'paused' | 'canceled';
  currentPeriodStart: Instant | null;
  currentPeriodEnd: Instant | null;
  /**
   * The processor has scheduled the end of billing: Stripe `cancel_at` (or the period end when
   * `cancel_at_period_end`). Null when nothing is scheduled (a scheduled end that is cleared = stopped).
   */
  cancelAt: Instant | null;
  cancelAtPeriodEnd: boolean;
  /**
   * For `canceled`: whether access ends now (Stripe `deleted`, PayPal `EXPIRED`) or at the end of the
   * period already paid (PayPal `CANCELLED`: billing stops, access lasts to the end of the billing cycle).
   */
  accessEnds: 'now' | 'period_end';
  /** When billing resumes after a pause, if the processor says. */
  resumesAt: Instant | null;
}

export interface PaymentReport {
  outcome: 'succeeded' | 'failed' | 'refunded';
  /** The processor's payment id (invoice, charge or sale id): a payment is counted once. */
  paymentId: string;
  amount: number;
  currency: string;
  /** For a succeeded renewal: the period it pays for, when known. */
  periodStart: Instant | null;
  periodEnd: Instant | null;
  /** For refunds: the processor's refund id and the amount refunded. */
  refundId: string | null;
}

/** An event the adapter recognised but that has no meaning here: answered 200 and logged once. */
export interface IgnoredEvent {
  ignored: true;
  processor: Exclude<Processor, 'none'>;
  eventId: string;
  type: string;
  reason: string;
}
