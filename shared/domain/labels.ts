import type { Actor, Grant, Purchase } from './types.ts';

/**
 * Rule 3: the label a revoked grant shows. The strings are the product's wording; do not rephrase.
 * A customer revoking their own access is not a flow the seeds describe; it reads as plain `Revoked`.
 */
export function revokedLabel(actor: Actor): string {
  switch (actor.type) {
    case 'automation':
      return 'Revoked by automation';
    case 'admin':
      return `Revoked by ${actor.email}`;
    case 'support':
      return 'Revoked by our support team';
    case 'system':
    case 'processor':
    case 'customer':
      return 'Revoked';
  }
}

export const ACCESS_REVOKED = 'Access revoked';

export interface AccessStatusRow {
  status: typeof ACCESS_REVOKED;
  label: string;
}

/**
 * Rule 3: the purchase's access-status row. No row at all while every grant is active; otherwise the
 * label of the latest revocation (ties go to the later grant in the offer's order).
 */
export function accessStatusRow(purchase: Pick<Purchase, 'products'>): AccessStatusRow | null {
  let latest: Grant | null = null;
  for (const grant of purchase.products) {
    if (grant.access !== 'revoked') continue;
    if (latest === null || (grant.revokedAt ?? '') >= (latest.revokedAt ?? '')) latest = grant;
  }
  if (latest === null) return null;
  return { status: ACCESS_REVOKED, label: latest.label ?? 'Revoked' };
}
