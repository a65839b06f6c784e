import type { Instant, Processor, Purchase } from '../domain/types.ts';

/**
 * Port for the money side: every billing action a use case takes goes through here first, and only when it
 * succeeds is the new state written. Adapters: `none` (billing recorded here only) below; Stripe, PayPal
 * and native in later work. `key` is an idempotency key derived from the command, so a retried request
 * never acts twice at the processor.
 */
export interface BillingProcessor {
  cancelNow(purchase: Purchase, key: string): Promise<void>;
  /** Stop payments at `at` (period end or a custom date); access lasts until then. */
  cancelAt(purchase: Purchase, at: Instant, key: string): Promise<void>;
  stopCancellation(purchase: Purchase, key: string): Promise<void>;
  pause(purchase: Purchase, resumesAt: Instant | null, key: string): Promise<void>;
  unpause(purchase: Purchase, key: string): Promise<void>;
}

export type ProcessorRegistry = Record<Processor, BillingProcessor>;

/** Raised by adapters when the processor refuses or cannot be reached; the edge answers 502 naming it. */
export class ProcessorError extends Error {
  constructor(
    readonly processor: Processor,
    message: string,
  ) {
    super(`${processor}: ${message}`);
    this.name = 'ProcessorError';
  }
}

/** Billing recorded in membergate only: nothing to call. */
export const noProcessor: BillingProcessor = {
  cancelNow: async () => undefined,
  cancelAt: async () => undefined,
  stopCancellation: async () => undefined,
  pause: async () => undefined,
  unpause: async () => undefined,
};

/** Until processor adapters are configured, purchases linked to a processor are refused clearly. */
export function unconfiguredProcessor(processor: Processor): BillingProcessor {
  const refuse = async () => {
    throw new ProcessorError(processor, 'no adapter is configured for this processor');
  };
  return { cancelNow: refuse, cancelAt: refuse, stopCancellation: refuse, pause: refuse, unpause: refuse };
}
