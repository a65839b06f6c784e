import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { SubscriptionState } from '../../shared/domain/processor-events.ts';
import { applyProcessorEvent } from '../../shared/domain/processor-sync.ts';
import {
  assertMayReconcile,
  compareSubscription,
  decodeWalkCursor,
  encodeWalkCursor,
  isReconciled,
  ReconciliationCursorError,
  type ReconciliationMarker,
  repairEvent,
  repairEventId,
  tallyReconciliation,
} from '../../shared/domain/reconciliation.ts';
import type { Purchase } from '../../shared/domain/types.ts';
import { ADMIN, AUTOMATION, aPurchase, aSubscriptionState, NOW, SUPPORT } from './fixtures.ts';

const PERIOD_END = '2026-03-15T00:00:00.000Z';

const state = aSubscriptionState;

const fields = (purchase: Purchase, processor: SubscriptionState) =>
  compareSubscription(purchase, processor).map(({ field, ledger, processor: theirs }) => ({ field, ledger, theirs }));

describe('compareSubscription', () => {
  it('finds nothing when the ledger and the processor agree', () => {
    expect(compareSubscription(aPurchase(), state())).toEqual([]);
  });

  it('reports a cancellation scheduled only at the processor as the cancel time, naming the purchase and subscription', () => {
    const cancelAt = '2026-04-01T00:00:00.000Z';
    expect(compareSubscription(aPurchase(), state({ cancelAt }))).toEqual([
      {
        purchaseId: 'purchase-1',
        processorSubscriptionId: 'sub_123',
        field: 'cancelAt',
        ledger: null,
        processor: cancelAt,
      },
    ]);
  });

  it('agrees on a pending cancellation the processor has scheduled at the same second', () => {
    const purchase = aPurchase({
      status: 'pending_cancellation',
      cancellation: {
        when: 'date',
        effectiveAt: '2026-04-01T00:00:00.400Z',
        requestedBy: ADMIN,
        requestedAt: NOW.toISOString(),
      },
    });
    expect(compareSubscription(purchase, state({ cancelAt: '2026-04-01T00:00:01.000Z' }))).toEqual([]);
    expect(fields(purchase, state())).toEqual([
      { field: 'cancelAt', ledger: '2026-04-01T00:00:00.400Z', theirs: null },
    ]);
  });

  it('reports status, and nothing else, for a subscription canceled at the processor', () => {
    expect(fields(aPurchase(), state({ status: 'canceled', currentPeriodEnd: '2030-01-01T00:00:00.000Z' }))).toEqual([
      { field: 'status', ledger: 'active', theirs: 'canceled' },
    ]);
  });

  it('reports a period end that moved at the processor (a renewal membergate missed)', () => {
    expect(fields(aPurchase(), state({ currentPeriodEnd: '2026-04-15T00:00:00.000Z' }))).toEqual([
      { field: 'currentPeriodEnd', ledger: PERIOD_END, theirs: '2026-04-15T00:00:00.000Z' },
    ]);
  });

  it('reports a pause at the processor as status, and a differing resume time as the pause field', () => {
    expect(fields(aPurchase(), state({ status: 'paused' }))).toEqual([
      { field: 'status', ledger: 'active', theirs: 'paused' },
    ]);
    const paused = aPurchase({ status: 'paused', pause: { pausedAt: NOW.toISOString(), resumesAt: null } });
    expect(fields(paused, state({ status: 'paused', resumesAt: '2026-05-01T00:00:00.000Z' }))).toEqual([
      { field: 'pause.resumesAt', ledger: null, theirs: '2026-05-01T00:00:00.000Z' },
    ]);
  });

  it('for PayPal compares only status and period end (membergate keeps its cancellation and pause timers)', () => {
    const purchase = aPurchase({
      processor: 'paypal',
      processorSubscriptionId: 'I-1',
      status: 'pending_cancellation',
      cancellation: {
        when: 'date',
        effectiveAt: '2026-04-01T00:00:00.000Z',
        requestedBy: ADMIN,
        requestedAt: NOW.toISOString(),
      },
    });
    expect(compareSubscription(purchase, state())).toEqual([]);
    // Billing already stopped at PayPal (CANCELLED): the processor must say canceled.
    const stopped = { ...purchase, cancellation: { ...purchase.cancellation!, billingStopped: true } };
    expect(fields(stopped, state())).toEqual([{ field: 'status', ledger: 'pending_cancellation', theirs: 'active' }]);
    expect(compareSubscription(stopped, state({ status: 'canceled', accessEnds: 'period_end' }))).toEqual([]);
  });

  it('does not count a processor that leaves the period out, nor a paid-off plan still listed', () => {
    expect(compareSubscription(aPurchase(), state({ currentPeriodEnd: null }))).toEqual([]);
    expect(compareSubscription(aPurchase({ status: 'completed' }), state({ status: 'canceled' }))).toEqual([]);
  });

  it('compares nothing for a purchase without a subscription id', () => {
    expect(compareSubscription(aPurchase({ processorSubscriptionId: null }), state({ status: 'canceled' }))).toEqual(
      [],
    );
  });

  const instant = fc
    .integer({ min: Date.parse('2026-03-02T00:00:00Z') / 1000, max: Date.parse('2027-03-01T00:00:00Z') / 1000 })
    .map((seconds) => new Date(seconds * 1000).toISOString());
  const processorState = fc.record({
    status: fc.constantFrom<SubscriptionState['status']>('active', 'past_due', 'paused', 'canceled'),
    currentPeriodEnd: fc.option(instant, { nil: null }),
    cancelAt: fc.option(instant, { nil: null }),
    resumesAt: fc.option(instant, { nil: null }),
  });

  it('property: once the processor state is applied by the webhook rules, no field disagrees any more', () => {
    fc.assert(
      fc.property(processorState, fc.constantFrom<'stripe' | 'paypal'>('stripe', 'paypal'), (drawn, processor) => {
        const theirs = state({
          ...drawn,
          cancelAt: drawn.status === 'paused' || processor === 'paypal' ? null : drawn.cancelAt,
          resumesAt: drawn.status === 'paused' && processor === 'stripe' ? drawn.resumesAt : null,
        });
        const purchase = aPurchase({ processor, processorSubscriptionId: processor === 'paypal' ? 'I-1' : 'sub_1' });
        const event = repairEvent(purchase, theirs, 'rec_1', NOW.toISOString());
        const repaired = applyProcessorEvent(purchase, event, NOW)?.purchase ?? purchase;
        expect(compareSubscription(repaired, theirs)).toEqual([]);
      }),
    );
  });

  it('property: every reported field names a value that really differs, and a purchase compared with itself is clean', () => {
    fc.assert(
      fc.property(processorState, (drawn) => {
        const theirs = state(drawn);
        for (const item of compareSubscription(aPurchase(), theirs)) {
          expect(item.ledger).not.toEqual(item.processor);
        }
        const mirrored = aPurchase({ currentPeriodEnd: theirs.currentPeriodEnd ?? PERIOD_END });
        expect(compareSubscription(mirrored, state({ currentPeriodEnd: mirrored.currentPeriodEnd }))).toEqual([]);
      }),
    );
  });
});

describe('repairEvent', () => {
  it('is the processor state as a webhook event of the purchase, named after the job and carrying its id', () => {
    const purchase = aPurchase({ processorAccount: 'acct_1' });
    const event = repairEvent(purchase, state(), 'rec_9', '2026-03-01T10:00:00.000Z');
    expect(event).toMatchObject({
      processor: 'stripe',
      eventId: repairEventId('rec_9', 'purchase-1'),
      type: 'membergate.reconciliation',
      occurredAt: '2026-03-01T10:00:00.000Z',
      subscriptionId: 'sub_123',
      account: 'acct_1',
      siteId: 'site-1',
      link: null,
      payment: null,
      jobId: 'rec_9',
    });
    const change = applyProcessorEvent(purchase, { ...event, subscription: state({ status: 'paused' }) }, NOW);
    expect(change?.history[0]).toMatchObject({
      actor: { type: 'processor', processor: 'stripe', eventId: event.eventId },
      details: { jobId: 'rec_9', eventType: 'membergate.reconciliation' },
    });
  });

  it('refuses a purchase with no processor subscription', () => {
    expect(() => repairEvent(aPurchase({ processor: 'none' }), state(), 'rec_1', NOW.toISOString())).toThrow();
  });
});

describe('the job rules', () => {
  it('lets admins and support start a reconciliation, not automation', () => {
    expect(() => assertMayReconcile(ADMIN)).not.toThrow();
    expect(() => assertMayReconcile(SUPPORT)).not.toThrow();
    expect(() => assertMayReconcile(AUTOMATION)).toThrow('only an admin or support token');
  });

  it('reconciles linked purchases of the processors asked for (stripe covers the platform account)', () => {
    expect(isReconciled(aPurchase({ processor: 'native' }), 'stripe')).toBe(true);
    expect(isReconciled(aPurchase({ processor: 'paypal' }), 'stripe')).toBe(false);
    expect(isReconciled(aPurchase({ processor: 'paypal' }), null)).toBe(true);
    expect(isReconciled(aPurchase({ processor: 'none' }), null)).toBe(false);
    expect(isReconciled(aPurchase({ processorSubscriptionId: null }), null)).toBe(false);
  });

  it('tallies only the markers its page decided, and lists skips and failures', () => {
    const marker = (purchaseId: string, page: number, outcome: ReconciliationMarker['outcome'], repaired = false) => ({
      siteId: 's',
      jobId: 'j',
      purchaseId,
      page,
      outcome,
      items: [],
      repaired,
      reason: outcome === 'skipped' ? 'no account' : null,
      at: NOW.toISOString(),
    });
    const tally = tallyReconciliation(
      [
        marker('a', 1, 'in_sync'),
        marker('b', 1, 'drifted', true),
        marker('c', 0, 'drifted'),
        marker('d', 1, 'skipped'),
      ],
      1,
      0,
    );
    expect(tally).toEqual({
      checked: 2,
      drifted: 1,
      repaired: 1,
      skipped: 1,
      failed: 0,
      problems: [{ purchaseId: 'd', reason: 'no account' }],
    });
  });
});

describe('the walk cursor', () => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('gives back the position it was made from, for the job that made it', () => {
    for (const position of [
      { offerId: 'monthly', cursor: null },
      { offerId: 'a', cursor: 'eyJsaXN0IjoiYWJjIn0' },
      { offerId: 'x'.repeat(128), cursor: 'c' },
    ]) {
      expect(decodeWalkCursor('rec_1', encodeWalkCursor('rec_1', position))).toEqual(position);
    }
  });

  it('property: any offer id and inner cursor round-trip; the cursor is opaque (no separator a key could use)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
        fc.option(fc.string({ minLength: 1 }), { nil: null }),
        (offerId, cursor) => {
          const encoded = encodeWalkCursor('rec_1', { offerId, cursor });
          expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(decodeWalkCursor('rec_1', encoded)).toEqual({ offerId, cursor });
        },
      ),
    );
  });

  it("refuses another job's cursor, and anything it did not write", () => {
    const refused = [
      encodeWalkCursor('rec_2', { offerId: 'monthly', cursor: null }),
      '',
      'not json',
      encode(null),
      encode(['rec_1', 'monthly', null]),
      encode('rec_1'),
      encode({ job: 'rec_1', offer: 'monthly' }),
      encode({ job: 'rec_1', offer: '', at: null }),
      encode({ job: 'rec_1', offer: 'a#b', at: null }),
      encode({ job: 'rec_1', offer: 'x'.repeat(129), at: null }),
      encode({ job: 'rec_1', offer: 7, at: null }),
      encode({ job: 'rec_1', offer: 'monthly', at: '' }),
      encode({ job: 'rec_1', offer: 'monthly', at: 3 }),
      encode({ job: 'rec_1', offer: 'monthly', at: null, extra: 1 }),
      // A cursor of the subscriptions index, as pages written before the walk by offer held.
      encode({ list: 'abc', key: { gsi2pk: 'SITE#s#SUBSCRIPTIONS', gsi2sk: 'active#…' } }),
    ];
    for (const cursor of refused) {
      expect(() => decodeWalkCursor('rec_1', cursor)).toThrow(ReconciliationCursorError);
    }
  });
});
