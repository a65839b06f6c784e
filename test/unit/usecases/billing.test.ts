import { beforeEach, describe, expect, it } from '@jest/globals';
import { ConflictError, InvalidInputError } from '../../../shared/domain/errors.ts';
import { ProcessorError } from '../../../shared/ports/processor.ts';
import { customerProductAccess } from '../../../shared/usecases/access.ts';
import {
  cancelPayments,
  pauseBilling,
  stopPendingCancellation,
  unpauseBilling,
} from '../../../shared/usecases/billing.ts';
import { changeAccess, getHistory, grantOfferToCustomer } from '../../../shared/usecases/purchases.ts';
import { ADMIN, CUSTOMER, type MemoryDeps, memoryDeps, SITE, seedSite, T0 } from '../../support/memory-deps.ts';

const PERIOD_END = '2026-03-15T00:00:00.000Z';

let m: MemoryDeps;
beforeEach(async () => {
  m = memoryDeps();
  await seedSite(m);
});

const now = () => m.clock.now();
const stripe = () => m.processors.stripe;

/** A Stripe subscription (or plan) whose current period ends on 15 March. */
async function subscription(offerId = 'monthly') {
  const purchase = await grantOfferToCustomer(
    m.deps,
    SITE,
    {
      customerId: CUSTOMER,
      offerId,
      processor: 'stripe',
      processorSubscriptionId: 'sub_1',
      currentPeriodEnd: PERIOD_END,
    },
    ADMIN,
    now(),
  );
  return purchase.purchaseId;
}

const stored = (purchaseId: string) => m.stores.purchases.getPurchase(SITE, purchaseId);
const historyTypes = async (purchaseId: string) =>
  (await getHistory(m.deps, SITE, purchaseId)).items.map((entry) => entry.type);
const access = (at: string) => customerProductAccess(m.deps, SITE, CUSTOMER, 'course', new Date(at));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to be refused, but it succeeded');
}

describe('cancel payments', () => {
  it('now: payments stop at the processor once, every grant is revoked "Revoked" at once', async () => {
    const id = await subscription();

    const after = await cancelPayments(m.deps, SITE, id, { when: 'now' }, ADMIN, now());

    expect(after.status).toBe('canceled');
    expect(after.products.map((g) => g.label)).toEqual(['Revoked', 'Revoked']);
    expect(after.accessStatus).toEqual({ status: 'Access revoked', label: 'Revoked' });
    expect(stripe().calls).toEqual([{ method: 'cancelNow', purchaseId: id, key: `${id}:1:cancel-now-`, args: [] }]);
    expect(await historyTypes(id)).toEqual(['purchase.granted', 'cancellation.requested', 'cancellation.effective']);
    await expect(access(T0)).resolves.toMatchObject({ hasAccess: false });
  });

  it('period_end: pending until the period ends, scheduled at the processor, a timer armed, access lasts', async () => {
    const id = await subscription();

    const after = await cancelPayments(m.deps, SITE, id, { when: 'period_end' }, ADMIN, now());

    expect(after).toMatchObject({
      status: 'pending_cancellation',
      cancellation: { when: 'period_end', effectiveAt: PERIOD_END, requestedBy: ADMIN, requestedAt: T0 },
      accessEndsAt: PERIOD_END,
      accessStatus: null,
    });
    expect(stripe().calls).toEqual([
      {
        method: 'scheduleCancellation',
        purchaseId: id,
        key: `${id}:1:cancel-period_end-`,
        args: ['period_end', PERIOD_END],
      },
    ]);
    expect(m.scheduler.forPurchase(id)).toEqual([{ purpose: 'cancellation', dueAt: PERIOD_END }]);
    await expect(access('2026-03-14T23:59:59.999Z')).resolves.toMatchObject({ hasAccess: true, until: PERIOD_END });
    await expect(access(PERIOD_END)).resolves.toMatchObject({ hasAccess: false });
  });

  it('date: pending until that date, which the processor is told', async () => {
    const id = await subscription();
    const date = '2026-05-10T00:00:00.000Z';

    const after = await cancelPayments(m.deps, SITE, id, { when: 'date', date }, ADMIN, now());

    expect(after).toMatchObject({ status: 'pending_cancellation', accessEndsAt: date });
    expect(
      stripe()
        .called('scheduleCancellation')
        .map((c) => c.args),
    ).toEqual([['date', date]]);
    expect(m.scheduler.forPurchase(id)).toEqual([{ purpose: 'cancellation', dueAt: date }]);
  });

  it('a date in the past is refused naming the field; nothing is asked of the processor', async () => {
    const id = await subscription();

    const error = await rejection(
      cancelPayments(m.deps, SITE, id, { when: 'date', date: '2026-02-01T00:00:00.000Z' }, ADMIN, now()),
    );

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details).toEqual([expect.objectContaining({ field: 'date' })]);
    expect(stripe().calls).toEqual([]);
  });

  it('a one-time purchase has no payments to cancel', async () => {
    const { purchaseId } = await grantOfferToCustomer(
      m.deps,
      SITE,
      { customerId: CUSTOMER, offerId: 'lifetime', processor: 'none' },
      ADMIN,
      now(),
    );

    const error = await rejection(cancelPayments(m.deps, SITE, purchaseId, { when: 'now' }, ADMIN, now()));

    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/one-time purchase/);
    expect(m.processors.none.calls).toEqual([]);
  });

  it('a canceled subscription is never reinstated (rule 6): refused, the processor is not called again', async () => {
    const id = await subscription();
    await cancelPayments(m.deps, SITE, id, { when: 'now' }, ADMIN, now());
    const before = await stored(id);

    const error = await rejection(cancelPayments(m.deps, SITE, id, { when: 'period_end' }, ADMIN, now()));

    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/can never be reinstated; the customer must purchase again/);
    expect(stripe().calls).toHaveLength(1);
    await expect(stored(id)).resolves.toEqual(before);
  });

  it('a canceled payment plan says how many installments were left', async () => {
    const id = await subscription('plan');
    await cancelPayments(m.deps, SITE, id, { when: 'now' }, ADMIN, now());

    await expect(pauseBilling(m.deps, SITE, id, null, ADMIN, now())).rejects.toThrow(/2 of 3 installments/);
  });

  it('a processor failure changes nothing here', async () => {
    const id = await subscription();
    const before = await stored(id);
    stripe().failNext('scheduleCancellation', new ProcessorError('stripe', 'unavailable', 503));

    await expect(cancelPayments(m.deps, SITE, id, { when: 'period_end' }, ADMIN, now())).rejects.toBeInstanceOf(
      ProcessorError,
    );

    await expect(stored(id)).resolves.toEqual(before);
    expect(await historyTypes(id)).toEqual(['purchase.granted']);
    expect(m.scheduler.forPurchase(id)).toEqual([]);
  });

  it('a change that lands between the read and the write is kept: the command decides again on the fresh state', async () => {
    const id = await subscription();
    stripe().during = async () => {
      await changeAccess(m.deps, SITE, id, 'revoke', ['community'], ADMIN, now());
    };

    const after = await cancelPayments(m.deps, SITE, id, { when: 'period_end' }, ADMIN, now());

    expect(after.status).toBe('pending_cancellation');
    expect(after.products.map((g) => g.access)).toEqual(['active', 'revoked']);
    // Each decision is made on its own version, so the processor's idempotency keys differ.
    expect(stripe().calls.map((c) => c.key)).toEqual([`${id}:1:cancel-period_end-`, `${id}:2:cancel-period_end-`]);
    expect(await historyTypes(id)).toEqual(['purchase.granted', 'access.revoked', 'cancellation.requested']);
  });
});

describe("stop a pending cancellation (don't cancel payments)", () => {
  it('back to active, the timer removed, the processor told once', async () => {
    const id = await subscription();
    await cancelPayments(m.deps, SITE, id, { when: 'period_end' }, ADMIN, now());

    const after = await stopPendingCancellation(m.deps, SITE, id, ADMIN, now());

    expect(after).toMatchObject({ status: 'active', cancellation: null, accessEndsAt: null });
    expect(m.scheduler.forPurchase(id)).toEqual([]);
    expect(stripe().called('stopCancellation')).toEqual([
      { method: 'stopCancellation', purchaseId: id, key: `${id}:2:stop-cancellation`, args: [] },
    ]);
    expect(await historyTypes(id)).toEqual(['purchase.granted', 'cancellation.requested', 'cancellation.stopped']);
  });

  it('without a pending cancellation it is refused and nothing is called', async () => {
    const id = await subscription();

    await expect(stopPendingCancellation(m.deps, SITE, id, ADMIN, now())).rejects.toThrow(
      /there is no pending cancellation to stop/,
    );
    expect(stripe().calls).toEqual([]);
  });
});

describe('pause and unpause', () => {
  it('pause until a date: paused, access continues, the processor told once, a pause-end timer armed', async () => {
    const id = await subscription();
    const resumesAt = '2026-04-01T00:00:00.000Z';

    const after = await pauseBilling(m.deps, SITE, id, resumesAt, ADMIN, now());

    expect(after).toMatchObject({ status: 'paused', pause: { pausedAt: T0, resumesAt } });
    expect(stripe().calls).toEqual([
      { method: 'pause', purchaseId: id, key: `${id}:1:pause-${resumesAt}`, args: [resumesAt] },
    ]);
    expect(m.scheduler.forPurchase(id)).toEqual([{ purpose: 'pause_end', dueAt: resumesAt }]);
    await expect(access('2026-03-20T00:00:00.000Z')).resolves.toMatchObject({ hasAccess: true });
  });

  it('unpause: active again, the timer removed', async () => {
    const id = await subscription();
    await pauseBilling(m.deps, SITE, id, '2026-04-01T00:00:00.000Z', ADMIN, now());

    const after = await unpauseBilling(m.deps, SITE, id, ADMIN, now());

    expect(after).toMatchObject({ status: 'active', pause: null });
    expect(stripe().called('unpause')).toHaveLength(1);
    expect(m.scheduler.forPurchase(id)).toEqual([]);
    expect(await historyTypes(id)).toEqual(['purchase.granted', 'billing.paused', 'billing.unpaused']);
  });

  it('pausing what is paused is refused and nothing is called', async () => {
    const id = await subscription();
    await pauseBilling(m.deps, SITE, id, null, ADMIN, now());

    const error = await rejection(pauseBilling(m.deps, SITE, id, null, ADMIN, now()));

    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/already paused/);
    expect(stripe().called('pause')).toHaveLength(1);
  });

  it('unpausing what is not paused is refused and nothing is called', async () => {
    const id = await subscription();

    const error = await rejection(unpauseBilling(m.deps, SITE, id, ADMIN, now()));

    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/billing is not paused/);
    expect(stripe().calls).toEqual([]);
  });

  it('a pending cancellation cannot be paused', async () => {
    const id = await subscription();
    await cancelPayments(m.deps, SITE, id, { when: 'period_end' }, ADMIN, now());

    await expect(pauseBilling(m.deps, SITE, id, null, ADMIN, now())).rejects.toThrow(/stop the cancellation first/);
    expect(stripe().called('pause')).toEqual([]);
  });
});
