import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ConflictError, InvalidInputError } from '../../shared/domain/errors.ts';
import { checkRefund, ledgerPayment, recordRefund, refundable } from '../../shared/domain/refunds.ts';
import type { Actor, Refund, RefundablePayment } from '../../shared/domain/types.ts';
import { ADMIN, activeGrant, aPurchase, NOW, revokedGrant, SUPPORT, thrownBy } from './fixtures.ts';

// Rule 12: what can be refunded, and what recording a refund does (and does not do).

const AT = NOW.toISOString();

const payment = (overrides: Partial<RefundablePayment> = {}): RefundablePayment => ({
  paymentId: 'in_1',
  amount: 2900,
  currency: 'usd',
  refunded: null,
  ...overrides,
});

const refund = (amount: number, paymentId: string | null | undefined, id = `ref_${amount}`): Refund => ({
  refundId: id,
  amount,
  currency: 'usd',
  at: '2026-02-20T00:00:00.000Z',
  by: ADMIN,
  processorRefundId: `re_${id}`,
  ...(paymentId === undefined ? {} : { paymentId }),
});

describe('ledgerPayment: the payment a refund applies to when membergate is the ledger', () => {
  it('a free purchase has none', () => {
    expect(ledgerPayment(aPurchase({ kind: 'free', price: { type: 'free' } }))).toBeNull();
  });

  it('a one-time purchase: its price, one payment for the purchase', () => {
    const purchase = aPurchase({
      processor: 'none',
      kind: 'one_time',
      price: { type: 'one_time', amount: 9900, currency: 'eur' },
      currentPeriodStart: null,
    });
    expect(ledgerPayment(purchase)).toEqual({
      paymentId: 'purchase-1:purchase',
      amount: 9900,
      currency: 'eur',
      refunded: null,
    });
  });

  it('a subscription: the current period is its own payment', () => {
    expect(ledgerPayment(aPurchase({ processor: 'none' }))).toEqual({
      paymentId: 'purchase-1:period:2026-02-15T00:00:00.000Z',
      amount: 2900,
      currency: 'usd',
      refunded: null,
    });
  });

  it('a subscription without a recorded period start: the first period, from the purchase', () => {
    const purchase = aPurchase({ currentPeriodStart: null, createdAt: '2026-01-10T00:00:00.000Z' });
    expect(ledgerPayment(purchase)?.paymentId).toBe('purchase-1:period:2026-01-10T00:00:00.000Z');
  });
});

describe('refundable', () => {
  it('what the processor says was refunded counts, not membergate’s own records', () => {
    const purchase = aPurchase({ refunds: [refund(1000, 'in_1')] });
    expect(refundable(purchase, payment({ refunded: 400 }))).toEqual({ amount: 2500, currency: 'usd' });
    expect(refundable(purchase, payment({ refunded: 0 }))).toEqual({ amount: 2900, currency: 'usd' });
  });

  it('otherwise membergate’s refunds of that payment only count', () => {
    const purchase = aPurchase({
      refunds: [refund(1000, 'in_1', 'a'), refund(500, 'in_1', 'b'), refund(700, 'in_other'), refund(300, null, 'c')],
    });
    expect(refundable(purchase, payment())).toEqual({ amount: 1400, currency: 'usd' });
  });

  it('is never negative', () => {
    expect(refundable(aPurchase(), payment({ refunded: 5000 })).amount).toBe(0);
  });

  it('is what was paid less what was refunded, for any amounts (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 5 }),
        (paid, refunds) => {
          const purchase = aPurchase({ refunds: refunds.map((amount, i) => refund(amount, 'in_1', `r${i}`)) });
          const total = refunds.reduce((sum, amount) => sum + amount, 0);
          expect(refundable(purchase, payment({ amount: paid })).amount).toBe(Math.max(0, paid - total));
        },
      ),
    );
  });
});

describe('checkRefund: refused before any money moves', () => {
  it('a free purchase has nothing to refund (409)', () => {
    const error = thrownBy(() => checkRefund(aPurchase({ kind: 'free', price: { type: 'free' } }), payment(), null));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toBe('this purchase has no payment to refund');
  });

  it('no known payment: nothing to refund (409)', () => {
    const error = thrownBy(() => checkRefund(aPurchase(), null, 100));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toBe('this purchase has no payment to refund');
  });

  it('a payment already refunded in full (409, naming it)', () => {
    const error = thrownBy(() => checkRefund(aPurchase(), payment({ refunded: 2900 }), null));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toBe('payment in_1 has already been refunded in full');
  });

  it('more than what is left (400 naming amount and the limit)', () => {
    const purchase = aPurchase({ refunds: [refund(2600, 'in_1')] });
    const error = thrownBy(() => checkRefund(purchase, payment(), 301));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toBe('at most 300 usd can be refunded of the last payment');
    expect((error as InvalidInputError).details).toEqual([
      { field: 'amount', message: 'must be at most 300 (minor units)' },
    ]);
  });

  it('exactly what is left, or less, is accepted as asked', () => {
    const purchase = aPurchase({ refunds: [refund(2600, 'in_1')] });
    expect(checkRefund(purchase, payment(), 300)).toBe(300);
    expect(checkRefund(purchase, payment(), 1)).toBe(1);
  });

  it('no amount: everything that is left', () => {
    const purchase = aPurchase({ refunds: [refund(2600, 'in_1')] });
    expect(checkRefund(purchase, payment(), null)).toBe(300);
    expect(checkRefund(aPurchase(), payment(), null)).toBe(2900);
  });
});

describe('recordRefund', () => {
  const made = { refundId: 'ref_1', amount: 900, currency: 'usd', processorRefundId: 're_1', paymentId: 'in_1' };

  it('records the refund and a refund.created entry; billing and access untouched', () => {
    const change = recordRefund(aPurchase(), made, false, SUPPORT, NOW);
    expect(change.purchase).toEqual(
      aPurchase({ refunds: [{ ...made, at: AT, by: SUPPORT }], updatedAt: AT, version: 4 }),
    );
    expect(change.history).toEqual([
      {
        at: AT,
        type: 'refund.created',
        actor: SUPPORT,
        details: { refundId: 'ref_1', amount: 900, currency: 'usd', processorRefundId: 're_1', paymentId: 'in_1' },
      },
    ]);
  });

  it('a refund without a payment id records paymentId null in history', () => {
    const { paymentId: _, ...withoutPayment } = made;
    const change = recordRefund(aPurchase(), withoutPayment, false, ADMIN, NOW);
    expect(change.history[0]?.details.paymentId).toBeNull();
  });

  it('keeps earlier refunds', () => {
    const earlier = refund(100, 'in_0');
    const change = recordRefund(aPurchase({ refunds: [earlier] }), made, false, ADMIN, NOW);
    expect(change.purchase.refunds).toEqual([earlier, { ...made, at: AT, by: ADMIN }]);
  });

  it('asked to revoke: every grant revoked with the actor’s label, in the same version step', () => {
    const change = recordRefund(aPurchase(), made, true, ADMIN, NOW);
    const label = 'Revoked by owner@example.com';
    expect(change.purchase.products).toEqual([
      revokedGrant('course', AT, ADMIN, label),
      revokedGrant('community', AT, ADMIN, label),
    ]);
    expect(change.purchase.refunds).toEqual([{ ...made, at: AT, by: ADMIN }]);
    expect(change.purchase.status).toBe('active');
    expect(change.purchase.version).toBe(4);
    expect(change.purchase.updatedAt).toBe(AT);
    expect(change.history.map((entry) => entry.type)).toEqual(['refund.created', 'access.revoked']);
    expect(change.history[1]).toEqual({
      at: AT,
      type: 'access.revoked',
      actor: ADMIN,
      label,
      details: { productIds: ['course', 'community'] },
    });
  });

  it('asked to revoke with nothing left to revoke: the refund alone', () => {
    const earlier: Actor = { type: 'automation', id: 'rule-1' };
    const products = [
      revokedGrant('course', '2026-02-01T00:00:00.000Z', earlier, 'Revoked by automation'),
      revokedGrant('community', '2026-02-01T00:00:00.000Z', earlier, 'Revoked by automation'),
    ];
    const change = recordRefund(aPurchase({ products }), made, true, ADMIN, NOW);
    expect(change.purchase.products).toEqual(products);
    expect(change.purchase.refunds).toHaveLength(1);
    expect(change.purchase.version).toBe(4);
    expect(change.purchase.updatedAt).toBe(AT);
    expect(change.history.map((entry) => entry.type)).toEqual(['refund.created']);
  });

  it('a partly revoked purchase: only the active grants are revoked', () => {
    const products = [activeGrant('course'), revokedGrant('community', '2026-02-01T00:00:00.000Z', ADMIN, 'x')];
    const change = recordRefund(aPurchase({ products }), made, true, SUPPORT, NOW);
    expect(change.history[1]?.details).toEqual({ productIds: ['course'] });
    expect(change.history[1]?.label).toBe('Revoked by our support team');
  });
});
