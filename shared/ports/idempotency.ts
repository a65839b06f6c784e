import type { IdempotencyRecord } from '../domain/idempotency.ts';

/**
 * Port for callers' Idempotency-Keys. A key is claimed (pending) before anything is done and completed in
 * the same transaction as the effect it guards (PurchaseStore.savePurchase with `idempotency`).
 */
export interface IdempotencyStore {
  getIdempotencyRecord(
    siteId: string,
    purchaseId: string,
    scope: string,
    key: string,
  ): Promise<IdempotencyRecord | null>;
  /** Null when this request claimed the key; else the record another request wrote first. */
  claimIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord | null>;
}
