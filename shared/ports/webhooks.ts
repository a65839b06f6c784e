import { InvalidInputError } from '../domain/errors.ts';
import type { IgnoredEvent, ProcessorEvent } from '../domain/processor-events.ts';

/**
 * Port for an incoming processor webhook: verify the delivery against the raw body and the processor's
 * signature headers, then translate it into a ProcessorEvent (or say why it is ignored). Adapters:
 * shared/adapters/stripe-webhook.ts, shared/adapters/paypal-webhook.ts.
 */
export interface WebhookTranslator {
  readonly processor: 'stripe' | 'paypal';
  /** `headers` have lower-case names. Throws WebhookSignatureError (→ 400, nothing written) when unverified. */
  translate(
    rawBody: string,
    headers: Readonly<Record<string, string>>,
    now: Date,
  ): Promise<ProcessorEvent | IgnoredEvent>;
}

/** A forged, stale or altered delivery. Answered 400 so the sender sees it; nothing is written. */
export class WebhookSignatureError extends InvalidInputError {
  constructor(processor: string, reason: string) {
    super(`${processor} webhook signature could not be verified: ${reason}`, [{ field: 'signature', message: reason }]);
  }
}
