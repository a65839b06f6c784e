import type { CancelWhen, Instant, Processor, Purchase } from '../domain/types.ts';

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
  /** Full refund when `amount` is null; returns the processor's refund id and the amount refunded. */
  refund(purchase: Purchase, amount: number | null, key: string): Promise<ProcessorRefund>;
}

export interface ProcessorRefund {
  processorRefundId: string | null;
  amount: number;
  currency: string;
}

export type ProcessorRegistry = Record<Processor, BillingProcessor>;

/** Raised by adapters when the processor refuses or cannot be reached; the edge answers 502 naming it. */
export class ProcessorError extends Error {
  constructor(
    readonly processor: Processor,
    message: string,
    readonly status?: number,
  ) {
    super(`${processor}: ${message}`);
    this.name = 'ProcessorError';
  }
}

/** Billing recorded in membergate only: nothing to call; a refund is recorded for the full price paid. */
export const noProcessor: BillingProcessor = {
  schedulesCancellation: true,
  cancelNow: async () => undefined,
  scheduleCancellation: async () => undefined,
  stopCancellation: async () => undefined,
  pause: async () => undefined,
  unpause: async () => undefined,
  refund: async (purchase, amount) => ({
    processorRefundId: null,
    amount: amount ?? ('amount' in purchase.price ? purchase.price.amount : 0),
    currency: 'currency' in purchase.price ? purchase.price.currency : 'usd',
  }),
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
    refund: refuse,
  };
}
