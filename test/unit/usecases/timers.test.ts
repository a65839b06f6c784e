import { beforeEach, describe, expect, it } from '@jest/globals';
import { PurchaseNotFoundError } from '../../../shared/domain/errors.ts';
import type { Processor } from '../../../shared/domain/types.ts';
import { ProcessorError } from '../../../shared/ports/processor.ts';
import { cancelPayments, pauseBilling } from '../../../shared/usecases/billing.ts';
import { grantOfferToCustomer } from '../../../shared/usecases/purchases.ts';
import { runDueActions } from '../../../shared/usecases/timers.ts';
import { handleProcessorEvent } from '../../../shared/usecases/webhooks.ts';
import { ADMIN, CUSTOMER, type MemoryDeps, memoryDeps, SITE, seedSite, T0 } from '../../support/memory-deps.ts';

const PERIOD_END = '2026-03-15T00:00:00.000Z';

let m: MemoryDeps;
beforeEach(async () => {
  m = memoryDeps();
  await seedSite(m);
});

const now = () => m.clock.now();
const at = (instant: string) => new Date(instant);
const stored = (purchaseId: string) => m.stores.purchases.getPurchase(SITE, purchaseId);

async function subscription(processor: Processor = 'stripe', offerId = 'monthly') {
  const { purchaseId } = await grantOfferToCustomer(
    m.deps,
    SITE,
    {
      customerId: CUSTOMER,
      offerId,
      processor,
      processorSubscriptionId: processor === 'none' ? null : 'sub_1',
      currentPeriodEnd: offerId === 'monthly' ? PERIOD_END : null,
    },
    ADMIN,
    now(),
  );
  return purchaseId;
}

async function pendingCancellation(processor: Processor = 'stripe') {
  const id = await subscription(processor);
  await cancelPayments(m.deps, SITE, id, { when: 'period_end' }, ADMIN, now());
  return id;
}

describe('runDueActions', () => {
  it('a cancellation that is due takes effect: canceled, every grant "Revoked", no timer left', async () => {
    const id = await pendingCancellation();

    const run = await runDueActions(m.deps, SITE, id, at(PERIOD_END));

    expect(run).toEqual({ purchaseId: id, applied: ['cancellation.effective'] });
    const purchase = await stored(id);
    expect(purchase?.status).toBe('canceled');
    expect(purchase?.products.map((g) => [g.access, g.label, g.revokedAt])).toEqual([
      ['revoked', 'Revoked', PERIOD_END],
      ['revoked', 'Revoked', PERIOD_END],
    ]);
    expect(m.scheduler.forPurchase(id)).toEqual([]);
    // Stripe ends the subscription itself at `cancel_at`: nothing to call.
    expect(m.processors.stripe.called('cancelNow')).toEqual([]);
  });

  it('an early timer does nothing', async () => {
    const id = await pendingCancellation();
    const before = await stored(id);

    const run = await runDueActions(m.deps, SITE, id, at('2026-03-14T23:59:59.999Z'));

    expect(run.applied).toEqual([]);
    await expect(stored(id)).resolves.toEqual(before);
  });

  it('a duplicate timer does nothing the second time', async () => {
    const id = await pendingCancellation();
    await runDueActions(m.deps, SITE, id, at(PERIOD_END));
    const before = await stored(id);

    const again = await runDueActions(m.deps, SITE, id, at(PERIOD_END));

    expect(again.applied).toEqual([]);
    await expect(stored(id)).resolves.toEqual(before);
  });

  it('a late timer records the instant the cancellation was due, not when it fired', async () => {
    const id = await pendingCancellation();

    await runDueActions(m.deps, SITE, id, at('2026-03-18T06:00:00.000Z'));

    expect((await stored(id))?.products.map((g) => g.revokedAt)).toEqual([PERIOD_END, PERIOD_END]);
  });

  it('PayPal cannot schedule a cancellation: it is told when it takes effect, once', async () => {
    const id = await pendingCancellation('paypal');

    await runDueActions(m.deps, SITE, id, at(PERIOD_END));
    await runDueActions(m.deps, SITE, id, at(PERIOD_END));

    expect(m.processors.paypal.called('cancelNow')).toEqual([
      { method: 'cancelNow', purchaseId: id, key: `${id}:cancellation-effective`, args: [] },
    ]);
  });

  it('when PayPal already stopped billing (CANCELLED in PayPal), only access ends; PayPal is not called', async () => {
    const id = await subscription('paypal');
    await handleProcessorEvent(
      m.deps,
      {
        processor: 'paypal',
        eventId: 'WH-1',
        type: 'BILLING.SUBSCRIPTION.CANCELLED',
        occurredAt: T0,
        subscriptionId: 'sub_1',
        siteId: SITE,
        link: null,
        subscription: {
          status: 'canceled',
          currentPeriodStart: null,
          currentPeriodEnd: PERIOD_END,
          cancelAt: null,
          cancelAtPeriodEnd: false,
          accessEnds: 'period_end',
          resumesAt: null,
        },
        payment: null,
      },
      now(),
    );
    expect(await stored(id)).toMatchObject({ status: 'pending_cancellation', accessEndsAt: PERIOD_END });

    const run = await runDueActions(m.deps, SITE, id, at(PERIOD_END));

    expect(run.applied).toEqual(['cancellation.effective']);
    expect(m.processors.paypal.called('cancelNow')).toEqual([]);
  });

  it('a processor failure when the cancellation takes effect writes nothing, so the timer can retry', async () => {
    const id = await pendingCancellation('paypal');
    const before = await stored(id);
    m.processors.paypal.failNext('cancelNow', new ProcessorError('paypal', 'unavailable', 503));

    await expect(runDueActions(m.deps, SITE, id, at(PERIOD_END))).rejects.toBeInstanceOf(ProcessorError);

    await expect(stored(id)).resolves.toEqual(before);
    await expect(runDueActions(m.deps, SITE, id, at(PERIOD_END))).resolves.toMatchObject({
      applied: ['cancellation.effective'],
    });
  });

  it('an offer\'s access period ends: every grant revoked "Revoked"', async () => {
    const id = await subscription('none', 'trial');

    const run = await runDueActions(m.deps, SITE, id, at('2026-03-15T10:00:00.000Z'));

    expect(run.applied).toEqual(['access.period_ended']);
    const purchase = await stored(id);
    expect(purchase?.products.map((g) => [g.access, g.label])).toEqual([
      ['revoked', 'Revoked'],
      ['revoked', 'Revoked'],
    ]);
    expect(m.scheduler.forPurchase(id)).toEqual([]);
  });

  it('a pause with an end resumes billing at that end; PayPal is told to bill again', async () => {
    const id = await subscription('paypal');
    const resumesAt = '2026-03-10T00:00:00.000Z';
    await pauseBilling(m.deps, SITE, id, resumesAt, ADMIN, now());

    const run = await runDueActions(m.deps, SITE, id, at(resumesAt));

    expect(run.applied).toEqual(['billing.unpaused']);
    expect(await stored(id)).toMatchObject({ status: 'active', pause: null });
    expect(m.processors.paypal.called('unpause')).toHaveLength(1);
  });

  it('an unknown purchase is PurchaseNotFoundError', async () => {
    await expect(runDueActions(m.deps, SITE, 'pur_404', now())).rejects.toBeInstanceOf(PurchaseNotFoundError);
  });
});
