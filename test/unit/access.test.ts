import { describe, expect, it } from '@jest/globals';
import { libraryAccess, productAccess } from '../../shared/domain/access.ts';
import type { Grant, Purchase, PurchaseStatus } from '../../shared/domain/types.ts';
import { ADMIN, activeGrant, msAfter, NOW, revokedGrant } from './fixtures.ts';

type AccessInputs = Pick<Purchase, 'products' | 'accessEndsAt' | 'status'>;

function holding(
  products: Grant[],
  options: { accessEndsAt?: string | null; status?: PurchaseStatus } = {},
): AccessInputs {
  return { products, accessEndsAt: options.accessEndsAt ?? null, status: options.status ?? 'active' };
}

const revokedCourse = revokedGrant('course', '2026-02-20T00:00:00.000Z', ADMIN, 'Revoked by owner@example.com');

describe('productAccess (rule 14: a pure function of stored state and now)', () => {
  it('grants open-ended access through an active grant with no end', () => {
    const result = productAccess([holding([activeGrant('course')])], 'course', NOW);

    expect(result).toEqual({ productId: 'course', hasAccess: true, until: null, reason: 'active' });
  });

  it('refuses access through a revoked grant', () => {
    const result = productAccess([holding([revokedCourse])], 'course', NOW);

    expect(result).toEqual({ productId: 'course', hasAccess: false, until: null, reason: 'revoked' });
  });

  it('still grants access 1 ms before accessEndsAt, and says until when', () => {
    const purchase = holding([activeGrant('course')], { accessEndsAt: NOW.toISOString() });

    const result = productAccess([purchase], 'course', msAfter(NOW, -1));

    expect(result).toEqual({ productId: 'course', hasAccess: true, until: NOW.toISOString(), reason: 'active' });
  });

  it('ends access exactly at accessEndsAt even though no timer has changed the status yet', () => {
    const purchase = holding([activeGrant('course')], { accessEndsAt: NOW.toISOString(), status: 'active' });

    const result = productAccess([purchase], 'course', NOW);

    expect(result).toEqual({ productId: 'course', hasAccess: false, until: null, reason: 'access_ended' });
  });

  it('refuses access to a canceled purchase without an access end', () => {
    const purchase = holding([activeGrant('course')], { status: 'canceled' });

    const result = productAccess([purchase], 'course', NOW);

    expect(result).toEqual({ productId: 'course', hasAccess: false, until: null, reason: 'canceled' });
  });

  it("reports 'canceled' rather than 'access_ended' for a canceled purchase whose access end has passed", () => {
    const purchase = holding([activeGrant('course')], { status: 'canceled', accessEndsAt: '2026-02-01T00:00:00.000Z' });

    expect(productAccess([purchase], 'course', NOW).reason).toBe('canceled');
  });

  it('keeps access to a canceled purchase until its access end (end of the paid cycle)', () => {
    const until = '2026-03-15T00:00:00.000Z';
    const purchase = holding([activeGrant('course')], { status: 'canceled', accessEndsAt: until });

    const result = productAccess([purchase], 'course', NOW);

    expect(result).toEqual({ productId: 'course', hasAccess: true, until, reason: 'active' });
  });

  it('keeps access while a purchase is past due', () => {
    const purchase = holding([activeGrant('course')], { status: 'past_due' });

    expect(productAccess([purchase], 'course', NOW).hasAccess).toBe(true);
  });

  it("reports 'not_purchased' when no purchase holds the product", () => {
    const result = productAccess([holding([activeGrant('community')])], 'course', NOW);

    expect(result).toEqual({ productId: 'course', hasAccess: false, until: null, reason: 'not_purchased' });
  });

  it("reports 'not_purchased' for a customer with no purchases", () => {
    expect(productAccess([], 'course', NOW).reason).toBe('not_purchased');
  });
});

describe('productAccess across several purchases of the same product', () => {
  it('grants access when one purchase is revoked and another is active, in either order', () => {
    const revoked = holding([revokedCourse]);
    const active = holding([activeGrant('course')]);

    expect(productAccess([revoked, active], 'course', NOW).hasAccess).toBe(true);
    expect(productAccess([active, revoked], 'course', NOW).hasAccess).toBe(true);
  });

  it('grants access when one purchase has ended and another is active', () => {
    const ended = holding([activeGrant('course')], { accessEndsAt: '2026-02-01T00:00:00.000Z' });
    const active = holding([activeGrant('course')], { accessEndsAt: '2026-04-01T00:00:00.000Z' });

    expect(productAccess([ended, active], 'course', NOW)).toMatchObject({
      hasAccess: true,
      until: '2026-04-01T00:00:00.000Z',
    });
  });

  it('reports the longest until among purchases that grant access', () => {
    const shorter = holding([activeGrant('course')], { accessEndsAt: '2026-04-01T00:00:00.000Z' });
    const longer = holding([activeGrant('course')], { accessEndsAt: '2026-06-01T00:00:00.000Z' });

    expect(productAccess([longer, shorter], 'course', NOW).until).toBe('2026-06-01T00:00:00.000Z');
    expect(productAccess([shorter, longer], 'course', NOW).until).toBe('2026-06-01T00:00:00.000Z');
  });

  it('lets an unbounded purchase (until null) win over a bounded one, in either order', () => {
    const bounded = holding([activeGrant('course')], { accessEndsAt: '2026-06-01T00:00:00.000Z' });
    const unbounded = holding([activeGrant('course')]);

    expect(productAccess([bounded, unbounded], 'course', NOW).until).toBeNull();
    expect(productAccess([unbounded, bounded], 'course', NOW).until).toBeNull();
  });

  it('explains a refusal with the non-revoked reason when every purchase refuses', () => {
    const revoked = holding([revokedCourse]);
    const ended = holding([activeGrant('course')], { accessEndsAt: '2026-02-01T00:00:00.000Z' });

    expect(productAccess([revoked, ended], 'course', NOW).reason).toBe('access_ended');
    expect(productAccess([ended, revoked], 'course', NOW).reason).toBe('access_ended');
  });
});

describe('libraryAccess', () => {
  it('lists every product any purchase granted, once each, sorted by product id', () => {
    const purchases = [
      holding([activeGrant('zeta'), activeGrant('alpha')]),
      holding([activeGrant('mid'), activeGrant('alpha')]),
    ];

    const library = libraryAccess(purchases, NOW);

    expect(library.map((entry) => entry.productId)).toEqual(['alpha', 'mid', 'zeta']);
  });

  it('includes revoked and ended products with hasAccess false', () => {
    const purchases = [
      holding([revokedCourse]),
      holding([activeGrant('community')], { accessEndsAt: '2026-02-01T00:00:00.000Z' }),
    ];

    expect(libraryAccess(purchases, NOW)).toEqual([
      { productId: 'community', hasAccess: false, until: null, reason: 'access_ended' },
      { productId: 'course', hasAccess: false, until: null, reason: 'revoked' },
    ]);
  });

  it('combines purchases per product the same way productAccess does', () => {
    const purchases = [holding([revokedCourse]), holding([activeGrant('course')])];

    expect(libraryAccess(purchases, NOW)).toEqual([productAccess(purchases, 'course', NOW)]);
  });

  it('is empty for a customer with no purchases', () => {
    expect(libraryAccess([], NOW)).toEqual([]);
  });
});
