import { beforeEach, describe, expect, it } from '@jest/globals';
import { InvalidInputError } from '../../../shared/domain/errors.ts';
import { grantOfferToCustomer } from '../../../shared/usecases/purchases.ts';
import { listUpcoming } from '../../../shared/usecases/upcoming.ts';
import { ADMIN, CUSTOMER, type MemoryDeps, memoryDeps, SITE, seedSite, T0 } from '../../support/memory-deps.ts';

let m: MemoryDeps;
beforeEach(async () => {
  m = memoryDeps();
  await seedSite(m);
});

const day = (n: number) => new Date(Date.parse(T0) + n * 86_400_000).toISOString();

async function renewingOn(n: number) {
  return grantOfferToCustomer(
    m.deps,
    SITE,
    {
      customerId: CUSTOMER,
      offerId: 'monthly',
      processor: 'stripe',
      processorSubscriptionId: `sub_${n}`,
      currentPeriodEnd: day(n),
    },
    ADMIN,
    m.clock.now(),
  );
}

describe('listUpcoming (use case)', () => {
  it('defaults to the next 30 days from now and says which window it listed', async () => {
    await renewingOn(29);
    await renewingOn(31);

    const page = await listUpcoming(m.deps, SITE, { limit: 10 }, m.clock.now());

    expect(page).toMatchObject({ from: T0, to: day(30), nextCursor: null });
    expect(page.items.map((i) => i.at)).toEqual([day(29)]);
  });

  it('the next page needs only the cursor, even after now has moved', async () => {
    for (const n of [1, 2, 3]) await renewingOn(n);
    const first = await listUpcoming(m.deps, SITE, { limit: 2 }, m.clock.now());

    m.clock.set(day(0.5));
    const second = await listUpcoming(m.deps, SITE, { limit: 2, cursor: first.nextCursor! }, m.clock.now());

    expect([...first.items, ...second.items].map((i) => i.at)).toEqual([day(1), day(2), day(3)]);
    expect(second).toMatchObject({ from: T0, to: day(30), nextCursor: null });
  });

  it('a cursor sent with another window or type, or a forged one, is refused naming cursor', async () => {
    for (const n of [1, 2, 3]) await renewingOn(n);
    const { nextCursor } = await listUpcoming(m.deps, SITE, { limit: 1 }, m.clock.now());
    const attempts = [
      { limit: 1, cursor: nextCursor!, to: day(20) },
      { limit: 1, cursor: nextCursor!, type: 'installment' as const },
      { limit: 1, cursor: 'forged' },
      { limit: 1, cursor: Buffer.from(JSON.stringify({ from: T0, to: day(30), inner: 'x' })).toString('base64url') },
    ];

    for (const request of attempts) {
      const error = await listUpcoming(m.deps, SITE, request, m.clock.now()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).details.map((d) => d.field)).toEqual(['cursor']);
    }
  });
});
