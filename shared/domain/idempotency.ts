import type { Instant } from './types.ts';

/**
 * A caller's Idempotency-Key for one command on one purchase. `pending` from the moment membergate decides
 * to act (before any money moves), `completed` in the same transaction as the effect, with the answer the
 * first request got, so a retry replays that answer instead of acting again. `fingerprint` is the request's
 * parameters: the same key with other parameters is refused before the processor is called.
 */
export interface IdempotencyRecord {
  siteId: string;
  purchaseId: string;
  scope: string;
  key: string;
  fingerprint: string;
  status: 'pending' | 'completed';
  response: { statusCode: number; body: unknown } | null;
  createdAt: Instant;
}

/** How long a key is remembered. Stripe keeps keys 24 hours; a money command is worth a month. */
export const IDEMPOTENCY_RETENTION_DAYS = 30;

/** A stable fingerprint of a command's parameters (keys sorted, so property order does not matter). */
export function fingerprintOf(parameters: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(parameters).sort(([a], [b]) => a.localeCompare(b))));
}
