import { describe, expect, it } from '@jest/globals';
import { productAccess } from '../../shared/domain/access.ts';
import { applyDueActions, cancel, pause, stopCancellation } from '../../shared/domain/billing.ts';
import { type DomainEvent, sequenceChange, toEvent } from '../../shared/domain/events.ts';
import { explainAccess, type PurchaseRecord } from '../../shared/domain/explain.ts';
import { grantOffer, resumeAccess, revokeAccess } from '../../shared/domain/grants.ts';
import type { Actor, HistoryEntry, Offer, Purchase, PurchaseChange } from '../../shared/domain/types.ts';
import { ADMIN, AUTOMATION, anOffer, msAfter, SUPPORT } from './fixtures.ts';

/**
 * The pure explain (DESIGN.md §2.1): purchases are built with the real domain rules and their events numbered
 * and enveloped as the store does (sequenceChange, toEvent), so each event carries the purchase after its
 * change exactly as stored.
 */

const at = (instant: string) => new Date(instant);
const T = {
  grantA: '2026-01-10T09:00:00.000Z',
  revokeA: '2026-02-03T09:00:00.000Z',
  grantB: '2026-02-10T12:00:00.000Z',
  cancelB: '2026-02-20T08:00:00.000Z',
  now: '2026-03-01T10:00:00.000Z',
};

/** A purchase and its event log, advanced one domain change at a time. */
class Log {
  current: Purchase;
  events: DomainEvent[] = [];
  constructor(change: PurchaseChange) {
    this.current = change.purchase;
    this.record(change);
  }
  private record(change: PurchaseChange) {
    const { purchase, entries } = sequenceChange(change);
    this.current = purchase;
    this.events.push(...entries.map((entry) => toEvent(purchase, entry)));
  }
  apply(step: (p: Purchase) => PurchaseChange | null): this {
    const change = step(this.current);
    if (!change) throw new Error('the step changed nothing');
    this.record(change);
    return this;
  }
  get asRecord(): PurchaseRecord {
    return { current: this.current, events: this.events };
  }
}

function granted(purchaseId: string, instant: string, offer: Partial<Offer> = {}): Log {
  return new Log(
    grantOffer({
      purchaseId,
      customer: { siteId: 'site-1', customerId: 'customer-1' },
      offer: anOffer({ offerId: `offer-${purchaseId}`, ...offer }),
      processor: 'none',
      processorSubscriptionId: null,
      currentPeriodEnd: null,
      actor: ADMIN,
      now: at(instant),
    }),
  );
}

/** Purchase A revoked by automation, purchase B (bought later) pending cancellation at its period end. */
function twoPurchases() {
  const a = granted('pur-a', T.grantA).apply((p) => revokeAccess(p, ['course'], AUTOMATION, at(T.revokeA)));
  const b = granted('pur-b', T.grantB).apply((p) => cancel(p, { when: 'period_end' }, ADMIN, at(T.cancelB)));
  return { a, b };
}

describe('explainAccess (why does this customer have access?)', () => {
  it('names both purchases that grant a product: one revoked by automation, one pending cancellation', () => {
    const { a, b } = twoPurchases();

    const result = explainAccess([a.asRecord, b.asRecord], 'course', at(T.now), at(T.now));

    const effectiveAt = b.current.cancellation!.effectiveAt;
    expect(effectiveAt).toBe('2026-03-10T12:00:00.000Z');
    expect(result).toMatchObject({ productId: 'course', at: T.now, hasAccess: true, until: effectiveAt });
    expect(result.reason).toBe('active');
    const [grantA, grantB] = result.grants;
    expect(grantA).toMatchObject({
      purchaseId: 'pur-a',
      offerId: 'offer-pur-a',
      status: 'active',
      access: 'revoked',
      label: 'Revoked by automation',
      hasAccess: false,
      reason: 'revoked',
    });
    expect(grantA!.facts).toEqual([
      expect.objectContaining({ at: T.grantA, type: 'purchase.granted', actor: ADMIN }),
      {
        at: T.revokeA,
        type: 'access.revoked',
        actor: AUTOMATION,
        label: 'Revoked by automation',
        details: { productIds: ['course'] },
      },
    ]);
    expect(grantB).toMatchObject({
      purchaseId: 'pur-b',
      status: 'pending_cancellation',
      access: 'active',
      label: null,
      accessEndsAt: effectiveAt,
      cancellation: { when: 'period_end', effectiveAt, requestedBy: ADMIN, requestedAt: T.cancelB },
      hasAccess: true,
      until: effectiveAt,
    });
    expect(grantB!.facts.map((f) => [f.type, f.at])).toEqual([
      ['purchase.granted', T.grantB],
      ['cancellation.requested', T.cancelB],
    ]);
    expect(grantB!.facts[1]!.details).toMatchObject({ when: 'period_end', effectiveAt });
    expect(result.pending).toEqual([{ at: effectiveAt, type: 'cancellation_effective', purchaseId: 'pur-b' }]);
  });

  it('before the revocation, the revoked purchase still gave access (and the later one did not exist yet)', () => {
    const { a, b } = twoPurchases();
    const before = msAfter(at(T.revokeA), -1);

    const result = explainAccess([a.asRecord, b.asRecord], 'course', before, at(T.now));

    expect(result).toMatchObject({ hasAccess: true, until: null, reason: 'active', at: before.toISOString() });
    expect(result.grants.map((g) => [g.purchaseId, g.access, g.facts.length])).toEqual([['pur-a', 'active', 1]]);
    expect(result.pending).toEqual([]);
  });

  it('at the instant of the revocation (and until B was bought) there was no access: revoked', () => {
    const { a, b } = twoPurchases();

    for (const instant of [T.revokeA, '2026-02-10T11:59:59.999Z']) {
      const result = explainAccess([a.asRecord, b.asRecord], 'course', at(instant), at(T.now));
      expect(result).toMatchObject({ hasAccess: false, until: null, reason: 'revoked' });
      expect(result.grants.map((g) => g.purchaseId)).toEqual(['pur-a']);
    }
  });

  it('after the cancellation takes effect (timer not yet fired) the verdict is no access, exactly at effectiveAt', () => {
    const { a, b } = twoPurchases();
    const effectiveAt = at(b.current.cancellation!.effectiveAt);

    const result = explainAccess([a.asRecord, b.asRecord], 'course', effectiveAt, effectiveAt);

    expect(result).toMatchObject({ hasAccess: false, until: null });
    expect(result.pending).toEqual([]);
  });

  it('replays a cancellation that took effect: Revoked by the system, with its effective time', () => {
    const b = granted('pur-b', T.grantB).apply((p) => cancel(p, { when: 'period_end' }, ADMIN, at(T.cancelB)));
    const effectiveAt = b.current.cancellation!.effectiveAt;
    const fired = msAfter(at(effectiveAt), 90_000); // the timer fired 90 s late
    b.apply((p) => applyDueActions(p, fired));

    const late = explainAccess([b.asRecord], 'course', fired, fired);
    const meanwhile = explainAccess([b.asRecord], 'course', msAfter(fired, -1), fired);

    expect(late.grants[0]).toMatchObject({ status: 'canceled', access: 'revoked', label: 'Revoked' });
    expect(late.grants[0]!.facts.at(-1)).toMatchObject({
      type: 'cancellation.effective',
      label: 'Revoked',
      actor: { type: 'system', reason: 'cancellation_effective' },
      details: { effectiveAt },
    });
    expect(late).toMatchObject({ hasAccess: false, reason: 'revoked' });
    // Between the effective time and the late timer, access had already ended (rule 14): same answer, yes/no.
    expect(meanwhile).toMatchObject({ hasAccess: false, reason: 'access_ended' });
    expect(meanwhile.grants[0]!.status).toBe('pending_cancellation');
  });

  it('before a purchase existed it grants nothing: not_purchased, no grants', () => {
    const { a } = twoPurchases();

    const result = explainAccess([a.asRecord], 'course', msAfter(at(T.grantA), -1), at(T.now));

    expect(result).toEqual({
      productId: 'course',
      at: '2026-01-10T08:59:59.999Z',
      hasAccess: false,
      until: null,
      reason: 'not_purchased',
      grants: [],
      pending: [],
    });
  });

  it('a customer with no purchases, or none of this product, gets not_purchased', () => {
    const { a } = twoPurchases();

    expect(explainAccess([], 'course', at(T.now), at(T.now)).reason).toBe('not_purchased');
    expect(explainAccess([a.asRecord], 'workshop', at(T.now), at(T.now))).toMatchObject({
      reason: 'not_purchased',
      grants: [],
    });
  });

  it('a revocation of another product is not a fact of this one; a revocation of all products is', () => {
    const log = granted('pur-a', T.grantA)
      .apply((p) => revokeAccess(p, ['community'], SUPPORT, at(T.revokeA)))
      .apply((p) => revokeAccess(p, undefined, ADMIN, at(T.grantB)))
      .apply((p) => resumeAccess(p, ['course'], ADMIN, at(T.cancelB)));

    const course = explainAccess([log.asRecord], 'course', at(T.now), at(T.now));
    const community = explainAccess([log.asRecord], 'community', at(T.now), at(T.now));

    expect(course.grants[0]!.facts.map((f) => [f.type, f.label ?? null])).toEqual([
      ['purchase.granted', null],
      ['access.revoked', 'Revoked by owner@example.com'],
      ['access.resumed', null],
    ]);
    expect(course).toMatchObject({ hasAccess: true });
    expect(community.grants[0]!.facts.map((f) => [f.type, f.label ?? null])).toEqual([
      ['purchase.granted', null],
      ['access.revoked', 'Revoked by our support team'],
    ]);
    expect(community.grants[0]).toMatchObject({ label: 'Revoked by our support team', reason: 'revoked' });
  });

  it('lists a cancellation, its stop and a pause; a pause with an end is pending until then', () => {
    const log = granted('pur-a', T.grantA)
      .apply((p) => cancel(p, { when: 'period_end' }, ADMIN, at(T.revokeA)))
      .apply((p) => stopCancellation(p, SUPPORT, at(T.grantB)))
      .apply((p) => pause(p, '2026-04-01T00:00:00.000Z', ADMIN, at(T.cancelB)));

    const result = explainAccess([log.asRecord], 'course', at(T.now), at(T.now));

    expect(result.grants[0]!.facts.map((f) => f.type)).toEqual([
      'purchase.granted',
      'cancellation.requested',
      'cancellation.stopped',
      'billing.paused',
    ]);
    expect(result).toMatchObject({ hasAccess: true, until: null, reason: 'active' });
    expect(result.pending).toEqual([{ at: '2026-04-01T00:00:00.000Z', type: 'pause_ends', purchaseId: 'pur-a' }]);
    // Asked about the time the cancellation was pending, the cancellation is what was still ahead.
    const then = explainAccess([log.asRecord], 'course', at(T.revokeA), at(T.now));
    expect(then.pending.map((p) => p.type)).toEqual(['cancellation_effective']);
    expect(then.grants[0]!.facts.map((f) => f.type)).toEqual(['purchase.granted', 'cancellation.requested']);
  });

  it('an access period (accessDays) is pending until it ends, and afterwards ends access exactly then', () => {
    const log = granted('pur-a', T.grantA, { accessDays: 30 });
    const endsAt = log.current.accessPeriodEndsAt!;

    const during = explainAccess([log.asRecord], 'course', at(T.revokeA), at(T.revokeA));
    const after = explainAccess([log.asRecord], 'course', at(endsAt), at(endsAt));

    expect(during).toMatchObject({ hasAccess: true, until: endsAt });
    expect(during.pending).toEqual([{ at: endsAt, type: 'access_period_ends', purchaseId: 'pur-a' }]);
    expect(after).toMatchObject({ hasAccess: false, reason: 'access_ended', pending: [] });
    log.apply((p) => applyDueActions(p, at(endsAt)));
    expect(explainAccess([log.asRecord], 'course', at(endsAt), at(endsAt)).grants[0]!.facts.at(-1)).toMatchObject({
      type: 'access.period_ended',
      label: 'Revoked',
    });
  });

  it('a billing update is a fact only when it moved the period end, the status or the access end', () => {
    const log = granted('pur-a', T.grantA);
    const update = (changes: Partial<Purchase>, instant: string, details: Record<string, unknown>) =>
      log.apply((p) => {
        const entry: HistoryEntry = { at: instant, type: 'billing.updated', actor: PROCESSOR, details };
        return { purchase: { ...p, ...changes, version: p.version + 1 }, history: [entry] };
      });
    update({ currentPeriodEnd: '2026-03-20T00:00:00.000Z' }, T.revokeA, { moved: 'period end' });
    update({}, T.grantB, { moved: 'nothing' });
    update({ status: 'past_due' }, T.cancelB, { moved: 'status' });

    const result = explainAccess([log.asRecord], 'course', at(T.now), at(T.now));

    expect(result.grants[0]!.facts.map((f) => f.details.moved ?? f.type)).toEqual([
      'purchase.granted',
      'period end',
      'status',
    ]);
    expect(result).toMatchObject({ hasAccess: true, reason: 'active' });
  });

  it('a future `at` projects the current state, like the access check at a future now', () => {
    const { a, b } = twoPurchases();
    const later = at('2026-06-01T00:00:00.000Z');

    const result = explainAccess([a.asRecord, b.asRecord], 'course', later, at(T.now));

    expect(result).toMatchObject(productAccess([a.current, b.current], 'course', later));
    expect(result).toMatchObject({ hasAccess: false, reason: 'access_ended' });
    expect(result.grants[1]!.facts.map((f) => f.type)).toEqual(['purchase.granted', 'cancellation.requested']);
    expect(result.pending).toEqual([]);
  });

  it('events written after the stored state was read are left out, so facts and state agree', () => {
    const { b } = twoPurchases();
    const stale = { ...b.asRecord, current: { ...b.current, version: b.current.version - 1 } };

    const result = explainAccess([stale], 'course', at(T.now), at(T.now));

    expect(result.grants[0]!.facts.map((f) => f.type)).toEqual(['purchase.granted']);
  });
});

const PROCESSOR: Actor = { type: 'processor', processor: 'stripe', eventId: 'evt_1' };
