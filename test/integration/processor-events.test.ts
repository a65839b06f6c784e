import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createTimerHandler } from '../../functions/timer/app.ts';
import type { ProcessorEvent, SubscriptionState } from '../../shared/domain/processor-events.ts';
import { handleProcessorEvent } from '../../shared/usecases/webhooks.ts';
import { apiHarness, seedSite, TestClock } from '../support/harness.ts';

const NOW = '2026-11-21T10:00:00.000Z';
const PERIOD_END = '2026-12-21T10:00:00.000Z';

function state(overrides: Partial<SubscriptionState> = {}): SubscriptionState {
  return {
    status: 'active',
    currentPeriodStart: NOW,
    currentPeriodEnd: PERIOD_END,
    cancelAt: null,
    cancelAtPeriodEnd: false,
    accessEnds: 'now',
    resumesAt: null,
    ...overrides,
  };
}

async function setup(processor: 'stripe' | 'paypal' = 'stripe') {
  const api = apiHarness({ clock: new TestClock(new Date(NOW)) });
  const seeded = await seedSite(api);
  const subscriptionId = `${processor === 'stripe' ? 'sub' : 'I'}_${randomUUID().slice(0, 12)}`;
  const event = (overrides: Partial<ProcessorEvent>): ProcessorEvent => ({
    processor,
    eventId: `evt_${randomUUID().slice(0, 12)}`,
    type: 'customer.subscription.updated',
    occurredAt: NOW,
    subscriptionId,
    siteId: seeded.siteId,
    link: { offerId: 'bundle', customerId: 'cus-1' },
    subscription: state(),
    payment: null,
    ...overrides,
  });
  const deliver = (e: ProcessorEvent) => handleProcessorEvent(api.deps, e, api.clock.now());
  const created = await deliver(event({ type: 'customer.subscription.created' }));
  if (created.outcome !== 'created') throw new Error(`expected created, got ${JSON.stringify(created)}`);
  const path = `/sites/${seeded.siteId}/purchases/${created.purchaseId}`;
  const get = async () => (await api.call('GET', path, { claims: seeded.claims })).body;
  const history = async () => (await api.call('GET', `${path}/history`, { claims: seeded.claims })).body.items;
  return { api, ...seeded, event, deliver, purchaseId: created.purchaseId, path, get, history };
}

describe('processor events', () => {
  it('a subscription the processor reports first creates the purchase from its metadata', async () => {
    const { get, history } = await setup();

    const purchase = await get();

    expect(purchase).toMatchObject({ processor: 'stripe', status: 'active', currentPeriodEnd: PERIOD_END, version: 1 });
    expect((await history())[0]).toMatchObject({
      type: 'purchase.granted',
      actor: { type: 'processor', processor: 'stripe' },
    });
  });

  it('the same event delivered 20 times concurrently changes state once and writes one history entry', async () => {
    const { event, deliver, get, history } = await setup();
    const cancelAt = '2026-11-21T10:00:05.000Z';
    const once = event({ occurredAt: '2026-11-21T10:00:01.000Z', subscription: state({ cancelAt }) });

    const outcomes = await Promise.all(Array.from({ length: 20 }, () => deliver(once)));

    expect(outcomes.filter((o) => o.outcome === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(19);
    expect((await get()).version).toBe(2);
    expect((await history()).filter((e: { type: string }) => e.type === 'cancellation.requested')).toHaveLength(1);
  });

  it('cancel_at from the processor gives the same state as an in-app date cancel, recording the event id', async () => {
    const { api, event, deliver, get, history, purchaseId } = await setup();
    const cancelAt = '2026-11-21T10:00:05.000Z';
    const updated = event({ occurredAt: '2026-11-21T10:00:01.000Z', subscription: state({ cancelAt }) });

    await deliver(updated);
    const purchase = await get();

    expect(purchase).toMatchObject({ status: 'pending_cancellation', accessEndsAt: cancelAt });
    expect(purchase.cancellation).toMatchObject({ when: 'date', effectiveAt: cancelAt });
    expect((await history()).at(-1).details).toMatchObject({ eventId: updated.eventId, eventType: updated.type });
    expect(api.scheduler.forPurchase(purchaseId)).toEqual([
      expect.objectContaining({ purpose: 'cancellation', dueAt: cancelAt }),
    ]);

    api.clock.set('2026-11-21T10:00:07.000Z');
    await createTimerHandler(api.deps)(api.scheduler.forPurchase(purchaseId)[0]!);
    expect(await get()).toMatchObject({
      status: 'canceled',
      accessStatus: { status: 'Access revoked', label: 'Revoked' },
    });
  });

  it('deleted delivered before an older updated ends canceled, not pending', async () => {
    const { event, deliver, get } = await setup();
    const updated = event({
      occurredAt: '2026-11-21T10:00:01.000Z',
      subscription: state({ cancelAt: '2026-11-30T00:00:00.000Z' }),
    });
    const deleted = event({
      type: 'customer.subscription.deleted',
      occurredAt: '2026-11-21T10:00:02.000Z',
      subscription: state({ status: 'canceled' }),
    });

    await deliver(deleted);
    const late = await deliver(updated);

    expect(late.outcome).toBe('unchanged');
    expect(await get()).toMatchObject({ status: 'canceled' });
  });

  it('cancel_at cleared at the processor stops the pending cancellation', async () => {
    const { event, deliver, get } = await setup();
    await deliver(
      event({ occurredAt: '2026-11-21T10:00:01.000Z', subscription: state({ cancelAt: '2026-11-30T00:00:00.000Z' }) }),
    );

    await deliver(event({ occurredAt: '2026-11-21T10:00:03.000Z', subscription: state() }));

    expect(await get()).toMatchObject({ status: 'active', cancellation: null, accessEndsAt: null });
  });

  it('a failed payment is past_due with access; a paid invoice advances the period and restores active', async () => {
    const { api, event, deliver, get, siteId, claims } = await setup();
    await deliver(
      event({
        type: 'invoice.payment_failed',
        subscription: null,
        payment: {
          outcome: 'failed',
          paymentId: 'in_1',
          amount: 2900,
          currency: 'usd',
          periodStart: null,
          periodEnd: null,
          refundId: null,
        },
      }),
    );
    const pastDue = await get();
    const access = await api.call('GET', `/sites/${siteId}/customers/cus-1/access/course`, { claims });

    await deliver(
      event({
        type: 'invoice.paid',
        subscription: null,
        payment: {
          outcome: 'succeeded',
          paymentId: 'in_2',
          amount: 2900,
          currency: 'usd',
          periodStart: PERIOD_END,
          periodEnd: '2027-01-21T10:00:00.000Z',
          refundId: null,
        },
      }),
    );

    expect(pastDue.status).toBe('past_due');
    expect(access.body.hasAccess).toBe(true);
    expect(await get()).toMatchObject({ status: 'active', currentPeriodEnd: '2027-01-21T10:00:00.000Z' });
  });

  it('an unknown event for an unknown subscription is recorded and ignored', async () => {
    const { event, deliver } = await setup();
    const stray = event({ subscriptionId: 'sub_unknown', link: null });

    const first = await deliver(stray);
    const again = await deliver(stray);

    expect(first.outcome).toBe('ignored');
    expect(again.outcome).toBe('duplicate');
  });
});

describe('PayPal CANCELLED', () => {
  it('keeps access until the end of the billing cycle recorded earlier, then revokes it', async () => {
    const { api, event, deliver, get, purchaseId, siteId, claims } = await setup('paypal');
    const cancelled = event({
      type: 'BILLING.SUBSCRIPTION.CANCELLED',
      occurredAt: '2026-11-25T00:00:00.000Z',
      subscription: state({
        status: 'canceled',
        accessEnds: 'period_end',
        currentPeriodEnd: null,
        currentPeriodStart: null,
      }),
    });
    api.clock.set('2026-11-25T00:00:01.000Z');

    await deliver(cancelled);
    const pending = await get();
    api.clock.set(new Date(Date.parse(PERIOD_END) - 1));
    const before = await api.call('GET', `/sites/${siteId}/customers/cus-1/access/course`, { claims });
    api.clock.set(PERIOD_END);
    await createTimerHandler(api.deps)(api.scheduler.forPurchase(purchaseId)[0]!);

    expect(pending).toMatchObject({ status: 'pending_cancellation', accessEndsAt: PERIOD_END });
    expect(pending.cancellation.billingStopped).toBe(true);
    expect(before.body.hasAccess).toBe(true);
    expect(await get()).toMatchObject({ status: 'canceled', accessStatus: { label: 'Revoked' } });
  });
});
