import { beforeEach, describe, expect, it } from '@jest/globals';
import { ConflictError, IdempotencyKeyReusedError, InvalidInputError } from '../../../shared/domain/errors.ts';
import { ProcessorError } from '../../../shared/ports/processor.ts';
import { getHistory, grantOfferToCustomer } from '../../../shared/usecases/purchases.ts';
import { type RefundInput, refundPurchase } from '../../../shared/usecases/refunds.ts';
import { ADMIN, CUSTOMER, type MemoryDeps, memoryDeps, SITE, seedSite } from '../../support/memory-deps.ts';

let m: MemoryDeps;
beforeEach(async () => {
  m = memoryDeps();
  await seedSite(m);
});

const now = () => m.clock.now();
const stripe = () => m.processors.stripe;

/** A Stripe subscription of 29.00 USD a month: its last payment is 2900. */
async function subscription(offerId = 'monthly') {
  const { purchaseId } = await grantOfferToCustomer(
    m.deps,
    SITE,
    { customerId: CUSTOMER, offerId, processor: 'stripe', processorSubscriptionId: 'sub_1' },
    ADMIN,
    now(),
  );
  return purchaseId;
}

const refund = (purchaseId: string, input: Partial<RefundInput> = {}) =>
  refundPurchase(
    m.deps,
    SITE,
    purchaseId,
    { amount: null, revokeAccess: false, idempotencyKey: null, ...input },
    ADMIN,
    now(),
  );
const stored = (purchaseId: string) => m.stores.purchases.getPurchase(SITE, purchaseId);
const historyTypes = async (purchaseId: string) =>
  (await getHistory(m.deps, SITE, purchaseId)).items.map((entry) => entry.type);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to be refused, but it succeeded');
}

describe('refund', () => {
  it('in full by default, through the processor once; access and billing stay as they were', async () => {
    const id = await subscription();

    const result = await refund(id);

    expect(result).toMatchObject({ statusCode: 201, replayed: false });
    expect(result.body.refunds).toEqual([
      expect.objectContaining({ amount: 2900, currency: 'usd', processorRefundId: 're_1', by: ADMIN }),
    ]);
    expect(result.body).toMatchObject({ status: 'active', accessStatus: null });
    expect(stripe().called('refund')).toEqual([expect.objectContaining({ key: `${id}:1:refund:full` })]);
    expect(await historyTypes(id)).toEqual(['purchase.granted', 'refund.created']);
  });

  it('partial, revoking access when asked, with the refunder as the revoker', async () => {
    const id = await subscription();

    const result = await refund(id, { amount: 1000, revokeAccess: true });

    expect(result.body.refunds.map((r) => r.amount)).toEqual([1000]);
    expect(result.body.products.map((g) => g.label)).toEqual([
      'Revoked by owner@example.com',
      'Revoked by owner@example.com',
    ]);
    expect(result.body.status).toBe('active');
    expect(await historyTypes(id)).toEqual(['purchase.granted', 'refund.created', 'access.revoked']);
  });

  it('more than what is left of the payment is refused naming amount, before the processor refunds anything', async () => {
    const id = await subscription();
    await refund(id, { amount: 2000 });

    const error = await rejection(refund(id, { amount: 1000 }));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details).toEqual([expect.objectContaining({ field: 'amount' })]);
    expect(stripe().called('refund')).toHaveLength(1);
    expect((await stored(id))?.refunds).toHaveLength(1);
  });

  it('a free purchase has nothing to refund', async () => {
    const { purchaseId } = await grantOfferToCustomer(
      m.deps,
      SITE,
      { customerId: CUSTOMER, offerId: 'trial', processor: 'none' },
      ADMIN,
      now(),
    );

    await expect(refund(purchaseId)).rejects.toBeInstanceOf(ConflictError);
    expect(m.processors.none.called('refund')).toEqual([]);
  });

  it("the processor's refusal reaches the caller and nothing is recorded", async () => {
    const id = await subscription();
    const before = await stored(id);
    const refusal = new ProcessorError('stripe', 'charge already refunded', 400, {
      code: 'charge_already_refunded',
      param: null,
    });
    stripe().failNext('refund', refusal);

    await expect(refund(id, { idempotencyKey: 'k-1' })).rejects.toBe(refusal);

    await expect(stored(id)).resolves.toEqual(before);
    expect(await historyTypes(id)).toEqual(['purchase.granted']);
  });

  it('after a failure the same key may try again; the money moves once', async () => {
    const id = await subscription();
    stripe().failNext('refund', new ProcessorError('stripe', 'unavailable', 503));
    await expect(refund(id, { amount: 500, idempotencyKey: 'k-1' })).rejects.toBeInstanceOf(ProcessorError);

    const retried = await refund(id, { amount: 500, idempotencyKey: 'k-1' });

    expect(retried.replayed).toBe(false);
    expect(retried.body.refunds.map((r) => r.amount)).toEqual([500]);
    expect(
      new Set(
        stripe()
          .called('refund')
          .map((c) => c.key),
      ),
    ).toEqual(new Set([`${id}:refund:k-1`]));
  });
});

describe('refund with an Idempotency-Key', () => {
  it('a retry replays the first answer and refunds nothing more', async () => {
    const id = await subscription();
    const first = await refund(id, { amount: 1000, idempotencyKey: 'k-1' });

    const again = await refund(id, { amount: 1000, idempotencyKey: 'k-1' });

    expect(again).toEqual({ ...first, replayed: true });
    expect(stripe().called('refund')).toHaveLength(1);
    expect((await stored(id))?.refunds).toHaveLength(1);
  });

  it('the key with other parameters is IdempotencyKeyReusedError before the processor is called', async () => {
    const id = await subscription();
    await refund(id, { amount: 1000, idempotencyKey: 'k-1' });
    const calls = stripe().calls.length;

    const error = await rejection(refund(id, { amount: 1200, idempotencyKey: 'k-1' }));

    expect(error).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(stripe().calls).toHaveLength(calls);
    expect((await stored(id))?.refunds).toHaveLength(1);
  });

  it('two concurrent requests with one key record one refund and give the same answer', async () => {
    const id = await subscription();

    const results = await Promise.all([
      refund(id, { amount: 700, idempotencyKey: 'k-2' }),
      refund(id, { amount: 700, idempotencyKey: 'k-2' }),
    ]);

    expect(results[0]!.body).toEqual(results[1]!.body);
    expect(results.map((r) => r.replayed).sort()).toEqual([false, true]);
    expect((await stored(id))?.refunds.map((r) => r.amount)).toEqual([700]);
    // Whatever reached the processor carried one key, so the processor moved the money once.
    expect(
      new Set(
        stripe()
          .called('refund')
          .map((c) => c.key),
      ),
    ).toEqual(new Set([`${id}:refund:k-2`]));
  });
});
