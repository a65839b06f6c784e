import type { SubscriptionState } from '../domain/processor-events.ts';
import { ledgerPayment, refundable } from '../domain/refunds.ts';
import type { CancelWhen, Instant, Processor, Purchase, RefundablePayment } from '../domain/types.ts';

/**
 * Port for the money side: every billing action a use case takes goes through here first, and only when it
 * succeeds is the new state written (a processor failure changes nothing here). `key` is an idempotency
 * key derived from the command, so a retried request never acts twice at the processor.
 * Adapters: `none` below; Stripe (shared/adapters/stripe.ts, also `native` with the platform's account)
 * and PayPal (shared/adapters/paypal.ts).
 */
export interface BillingProcessor {
  /**
   * Whether the processor itself can end a subscription at a future instant (Stripe `cancel_at`). When it
   * cannot (PayPal), membergate keeps the timer and calls `cancelNow` when the cancellation takes effect.
   */
  readonly schedulesCancellation: boolean;
  cancelNow(purchase: Purchase, key: string): Promise<void>;
  /** Stop payments at `at`: the end of the current period (`period_end`) or a custom date (`date`). */
  scheduleCancellation(purchase: Purchase, when: Exclude<CancelWhen, 'now'>, at: Instant, key: string): Promise<void>;
  stopCancellation(purchase: Purchase, key: string): Promise<void>;
  pause(purchase: Purchase, resumesAt: Instant | null, key: string): Promise<void>;
  unpause(purchase: Purchase, key: string): Promise<void>;
  /**
   * The payment a refund would give money back from (the latest one), as the processor records it, or null
   * when nothing was paid. A read: membergate checks the amount against it before asking for the refund.
   */
  paymentToRefund(purchase: Purchase): Promise<RefundablePayment | null>;
  /**
   * Refunds `payment` (found by paymentToRefund; looked up again when not given): in full when `amount` is
   * null. Returns the processor's refund id and the amount refunded.
   */
  refund(purchase: Purchase, amount: number | null, key: string, payment?: RefundablePayment): Promise<ProcessorRefund>;
  /**
   * The subscription as the processor holds it now, normalised as its webhooks are (status, scheduled end,
   * current period, pause), read on the purchase's account; null when the processor has no such subscription
   * for that account. A read for drift reconciliation: one request, no retries of its own (the caller paces and
   * retries 429s, shared/adapters/processor-throttle.ts).
   */
  fetchSubscription(purchase: Purchase): Promise<SubscriptionState | null>;
}

export interface ProcessorRefund {
  processorRefundId: string | null;
  amount: number;
  currency: string;
}

export type ProcessorRegistry = Record<Processor, BillingProcessor>;

/** What a processor said when it refused a request: its own error code and the parameter it named, if any. */
export interface ProcessorReason {
  code: string | null;
  param: string | null;
}

/**
 * Raised by adapters when the processor refuses or cannot be reached. `status` is the processor's HTTP
 * status, when it answered. The edge answers 502 when the processor failed (no answer, 5xx, or a refusal
 * of membergate's own credentials or rate) and a 4xx carrying the reason when it refused the request itself
 * (`rejectsRequest`): retrying that can never succeed, so it is not reported as the processor failing.
 */
export class ProcessorError extends Error {
  constructor(
    readonly processor: Processor,
    message: string,
    readonly status?: number,
    readonly reason: ProcessorReason = { code: null, param: null },
    /** The processor's `Retry-After`, in milliseconds, when it sent one (a 429). */
    readonly retryAfterMs: number | null = null,
  ) {
    super(`${processor}: ${message}`);
    this.name = 'ProcessorError';
  }

  /** 4xx other than 401/403 (our credentials or permissions), 408 (timeout) and 429 (our rate). */
  get rejectsRequest(): boolean {
    const status = this.status;
    return status !== undefined && status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status);
  }
}

/**
 * Billing recorded in membergate only: nothing to call. The payment a refund applies to is the price of the
 * purchase or of its current period (ledgerPayment); a full refund gives back what is left of it.
 */
export const noProcessor: BillingProcessor = {
  schedulesCancellation: true,
  cancelNow: async () => undefined,
  scheduleCancellation: async () => undefined,
  stopCancellation: async () => undefined,
  pause: async () => undefined,
  unpause: async () => undefined,
  paymentToRefund: async (purchase) => ledgerPayment(purchase),
  refund: async (purchase, amount, _key, payment) => {
    const paid = payment ?? ledgerPayment(purchase);
    return {
      processorRefundId: null,
      amount: amount ?? (paid ? refundable(purchase, paid).amount : 0),
      currency: paid?.currency ?? 'usd',
    };
  },
  // Nothing at a processor to compare with.
  fetchSubscription: async () => null,
};

/** A processor with no credentials configured: every call is refused clearly (502 naming it). */
export function unconfiguredProcessor(processor: Processor): BillingProcessor {
  const refuse = async (): Promise<never> => {
    throw new ProcessorError(processor, 'no credentials are configured for this processor');
  };
  return {
    schedulesCancellation: true,
    cancelNow: refuse,
    scheduleCancellation: refuse,
    stopCancellation: refuse,
    pause: refuse,
    unpause: refuse,
    paymentToRefund: refuse,
    refund: refuse,
    fetchSubscription: refuse,
  };
}

/**
 * Port for pacing reads at the processors (drift reconciliation): each read goes through `read`, which keeps to
 * the processor's published rate limit and retries its 429s. Adapter: shared/adapters/processor-throttle.ts.
 */
export interface ProcessorThrottle {
  read<T>(processor: Processor, action: () => Promise<T>): Promise<T>;
}

/** `Retry-After` as milliseconds: seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now: number = Date.now()): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
