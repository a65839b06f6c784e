import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { productAccess } from '../../../shared/domain/access.ts';
import { DomainError } from '../../../shared/domain/errors.ts';
import type { Actor, Purchase } from '../../../shared/domain/types.ts';
import { customerProductAccess } from '../../../shared/usecases/access.ts';
import {
  cancelPayments,
  pauseBilling,
  stopPendingCancellation,
  unpauseBilling,
} from '../../../shared/usecases/billing.ts';
import { explainProductAccess } from '../../../shared/usecases/explain.ts';
import { changeAccess, grantOfferToCustomer } from '../../../shared/usecases/purchases.ts';
import { runDueActions } from '../../../shared/usecases/timers.ts';
import {
  ADMIN,
  AUTOMATION,
  CUSTOMER,
  type MemoryDeps,
  memoryDeps,
  SITE,
  SUPPORT,
  seedSite,
  T0,
} from '../../support/memory-deps.ts';

/**
 * Property (DESIGN.md §2.1 Explain): whatever happened to a customer's purchases, explain at any instant gives
 * the same verdict as the access check computed from the state the customer's purchases had at that instant.
 * Commands go through the real use cases and the in-memory store (held to the store contract); after every
 * command the test keeps the customer's purchases as the access check read them, then asks explain about
 * every instant of the run (and the instants around each one, and every end instant ±1 ms).
 */

const OFFERS = ['monthly', 'plan', 'lifetime', 'trial', 'course-30'] as const;
const PRODUCTS = ['course', 'community'] as const;
const ACTORS: Actor[] = [ADMIN, SUPPORT, AUTOMATION];
const DAY = 86_400_000;

type Command =
  | { kind: 'grant'; offer: (typeof OFFERS)[number] }
  | { kind: 'revoke' | 'resume'; purchase: number; products: 'all' | (typeof PRODUCTS)[number]; actor: number }
  | { kind: 'cancel'; purchase: number; when: 'now' | 'period_end' | 'date'; days: number }
  | { kind: 'stop' | 'unpause'; purchase: number }
  | { kind: 'pause'; purchase: number; days: number | null }
  | { kind: 'wait'; ms: number; timers: boolean };

const purchaseIndex = fc.nat({ max: 3 });
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('grant' as const), offer: fc.constantFrom(...OFFERS) }),
  fc.record({
    kind: fc.constantFrom('revoke' as const, 'resume' as const),
    purchase: purchaseIndex,
    products: fc.constantFrom('all' as const, ...PRODUCTS),
    actor: fc.nat({ max: ACTORS.length - 1 }),
  }),
  fc.record({
    kind: fc.constant('cancel' as const),
    purchase: purchaseIndex,
    when: fc.constantFrom('now' as const, 'period_end' as const, 'date' as const),
    days: fc.integer({ min: 1, max: 60 }),
  }),
  fc.record({ kind: fc.constantFrom('stop' as const, 'unpause' as const), purchase: purchaseIndex }),
  fc.record({
    kind: fc.constant('pause' as const),
    purchase: purchaseIndex,
    days: fc.option(fc.integer({ min: 1, max: 30 })),
  }),
  fc.record({
    kind: fc.constant('wait' as const),
    // From a millisecond (two commands a tick apart) to two months (periods, access periods and dates pass).
    ms: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 60_000, max: 60 * DAY })),
    timers: fc.boolean(),
  }),
);

async function world(): Promise<MemoryDeps> {
  const m = memoryDeps();
  await seedSite(m);
  // An offer with an access period that grants one product only: purchases differ in what they grant.
  await m.stores.catalog.upsertOffer({
    siteId: SITE,
    offerId: 'course-30',
    name: 'course-30',
    productIds: ['course'],
    price: { type: 'subscription', amount: 900, currency: 'usd', interval: 'week', intervalCount: 1 },
    accessDays: 30,
    updatedAt: T0,
  });
  return m;
}

/** Runs one command at the clock's now; a refused command (409, 400) changes nothing, as over HTTP. */
async function run(m: MemoryDeps, purchaseIds: string[], cmd: Command): Promise<void> {
  const now = m.clock.now();
  const target = (index: number) => purchaseIds[index % Math.max(1, purchaseIds.length)];
  try {
    if (cmd.kind === 'grant') {
      const { purchaseId } = await grantOfferToCustomer(
        m.deps,
        SITE,
        { customerId: CUSTOMER, offerId: cmd.offer, processor: 'none', currentPeriodEnd: null },
        ADMIN,
        now,
      );
      purchaseIds.push(purchaseId);
      return;
    }
    if (cmd.kind === 'wait') {
      m.clock.set(new Date(now.getTime() + cmd.ms).toISOString());
      if (cmd.timers) {
        for (const purchaseId of purchaseIds) await runDueActions(m.deps, SITE, purchaseId, m.clock.now());
      }
      return;
    }
    const purchaseId = target(cmd.purchase);
    if (!purchaseId) return;
    switch (cmd.kind) {
      case 'revoke':
      case 'resume': {
        const products = cmd.products === 'all' ? undefined : [cmd.products];
        await changeAccess(m.deps, SITE, purchaseId, cmd.kind, products, ACTORS[cmd.actor]!, now);
        return;
      }
      case 'cancel': {
        const date = new Date(now.getTime() + cmd.days * DAY).toISOString();
        const request = cmd.when === 'date' ? { when: cmd.when, date } : { when: cmd.when };
        await cancelPayments(m.deps, SITE, purchaseId, request, ADMIN, now);
        return;
      }
      case 'stop':
        await stopPendingCancellation(m.deps, SITE, purchaseId, ADMIN, now);
        return;
      case 'pause': {
        const resumesAt = cmd.days === null ? null : new Date(now.getTime() + cmd.days * DAY).toISOString();
        await pauseBilling(m.deps, SITE, purchaseId, resumesAt, ADMIN, now);
        return;
      }
      case 'unpause':
        await unpauseBilling(m.deps, SITE, purchaseId, ADMIN, now);
        return;
    }
  } catch (error) {
    // Refusals are part of the sequence (cancel a one-time purchase, pause twice…); anything else is a bug.
    if (!(error instanceof DomainError)) throw error;
  }
}

/** The customer's purchases as the access check read them right after each command. */
interface Snapshot {
  at: number;
  purchases: Purchase[];
}

/** The state at `t`: the last snapshot taken at or before `t` (several commands at one instant: the last). */
function stateAt(snapshots: Snapshot[], t: number): Purchase[] {
  let found: Purchase[] = [];
  for (const snapshot of snapshots) if (snapshot.at <= t) found = snapshot.purchases;
  return found;
}

function instantsToAsk(snapshots: Snapshot[], end: number): number[] {
  const start = Date.parse(T0);
  const times = new Set<number>([start - 1, end, end + 1, end + 45 * DAY]);
  for (const [i, { at, purchases }] of snapshots.entries()) {
    for (const t of [at - 1, at, at + 1]) times.add(t);
    const next = snapshots[i + 1];
    if (next && next.at > at + 2) times.add(Math.floor((at + next.at) / 2));
    for (const purchase of purchases) {
      for (const instant of [purchase.accessEndsAt, purchase.cancellation?.effectiveAt, purchase.pause?.resumesAt]) {
        if (instant) for (const delta of [-1, 0, 1]) times.add(Date.parse(instant) + delta);
      }
    }
  }
  return [...times].filter((t) => t >= start - 1).sort((a, b) => a - b);
}

describe('explain agrees with the access check at every instant (property)', () => {
  it('for any sequence of grants, revocations, resumes, cancellations, pauses and time passing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 14 }), async (commands) => {
        const m = await world();
        const purchaseIds: string[] = [];
        const snapshots: Snapshot[] = [];
        for (const cmd of commands) {
          await run(m, purchaseIds, cmd);
          snapshots.push({
            at: m.clock.now().getTime(),
            purchases: await m.stores.purchases.getCustomerPurchases(SITE, CUSTOMER),
          });
        }
        const now = m.clock.now();
        for (const t of instantsToAsk(snapshots, now.getTime())) {
          const at = new Date(t);
          // Past instants replay the event log; now and later read the stored state, as the access check does.
          const expectedFrom = t >= now.getTime() ? snapshots.at(-1)!.purchases : stateAt(snapshots, t);
          for (const productId of PRODUCTS) {
            const explained = await explainProductAccess(m.deps, SITE, CUSTOMER, productId, at, now);
            const expected = productAccess(expectedFrom, productId, at);
            expect({ t: at.toISOString(), ...pick(explained) }).toEqual({ t: at.toISOString(), ...expected });
            // Every grant listed existed at `at` and holds the product; none is missing.
            const holding = expectedFrom.filter((p) => p.products.some((g) => g.productId === productId));
            expect(explained.grants.map((g) => g.purchaseId).sort()).toEqual(holding.map((p) => p.purchaseId).sort());
            for (const grant of explained.grants) {
              expect(grant.facts[0]?.type).toBe('purchase.granted');
              expect(grant.facts.every((f) => Date.parse(f.at) <= Math.max(t, now.getTime()))).toBe(true);
            }
            expect(explained.pending.every((p) => Date.parse(p.at) > t)).toBe(true);
          }
        }
        // At now, explain and the access check are one answer.
        for (const productId of PRODUCTS) {
          const explained = await explainProductAccess(m.deps, SITE, CUSTOMER, productId, null, now);
          await expect(customerProductAccess(m.deps, SITE, CUSTOMER, productId, now)).resolves.toEqual(pick(explained));
        }
      }),
      { numRuns: 150 },
    );
  });
});

function pick({ productId, hasAccess, until, reason }: Awaited<ReturnType<typeof explainProductAccess>>) {
  return { productId, hasAccess, until, reason };
}
