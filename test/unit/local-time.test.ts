import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { cancel, pause, planCancellation } from '../../shared/domain/billing.ts';
import { InvalidInputError } from '../../shared/domain/errors.ts';
import { grantOffer } from '../../shared/domain/grants.ts';
import {
  addLocalDays,
  endOfLocalDay,
  isDayInput,
  isLocalDate,
  isTimeZone,
  localDateOf,
  resolveDate,
} from '../../shared/domain/local-time.ts';
import { ADMIN, anOffer, aPurchase, NOW, thrownBy } from './fixtures.ts';

/** Rule 15: a day means through the end of that day in the site's time zone, with real tz rules. */
describe('the end of a local day', () => {
  it.each([
    // The acceptance examples: the local day after, at its midnight.
    ['2027-03-14', 'America/New_York', '2027-03-15T04:00:00.000Z'], // 14 March 2027 is the spring-forward day (23 h)
    ['2027-03-14', 'Europe/Berlin', '2027-03-14T23:00:00.000Z'], // CET, UTC+1
    ['2027-03-14', 'UTC', '2027-03-15T00:00:00.000Z'],
    // New York: the day before spring-forward ends at EDT midnight; fall-back day (25 h) ends at EST midnight.
    ['2027-03-13', 'America/New_York', '2027-03-14T05:00:00.000Z'],
    ['2026-11-01', 'America/New_York', '2026-11-02T05:00:00.000Z'],
    ['2026-10-31', 'America/New_York', '2026-11-01T04:00:00.000Z'],
    // Berlin: summer time from 29 March 2026 (UTC+2), back on 25 October 2026.
    ['2026-03-29', 'Europe/Berlin', '2026-03-29T22:00:00.000Z'],
    ['2026-10-25', 'Europe/Berlin', '2026-10-25T23:00:00.000Z'],
    // Lord Howe shifts by 30 minutes: +10:30 in winter, +11 in summer (from 4 October 2026 at 02:00).
    ['2026-10-03', 'Australia/Lord_Howe', '2026-10-03T13:30:00.000Z'],
    ['2026-10-04', 'Australia/Lord_Howe', '2026-10-04T13:00:00.000Z'],
    // Samoa skipped 30 December 2011 (UTC-10 → UTC+14): the 29th ends when the 31st begins.
    ['2011-12-29', 'Pacific/Apia', '2011-12-30T10:00:00.000Z'],
    ['2011-12-31', 'Pacific/Apia', '2011-12-31T10:00:00.000Z'],
  ])('%s in %s ends at %s', (day, zone, expected) => {
    expect(endOfLocalDay(day, zone)).toBe(expected);
  });

  it('a day that never happened (Apia, 30 December 2011) ends when the day before it does', () => {
    expect(endOfLocalDay('2011-12-30', 'Pacific/Apia')).toBe(endOfLocalDay('2011-12-29', 'Pacific/Apia'));
  });

  it('is always the first instant whose local day is the next one', () => {
    const zones = ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Chatham'];
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom(...zones),
        (date, zone) => {
          const day = date.toISOString().slice(0, 10);
          const end = endOfLocalDay(day, zone);
          const before = new Date(Date.parse(end) - 1).toISOString();
          expect(localDateOf(before, zone)).toBe(day);
          expect(localDateOf(end, zone) > day).toBe(true);
        },
      ),
    );
  });
});

describe('calendar days at the same wall-clock time (accessDays)', () => {
  it('across New York spring-forward a day is 23 hours', () => {
    expect(addLocalDays('2027-03-13T15:00:00.000Z', 1, 'America/New_York')).toBe('2027-03-14T14:00:00.000Z');
  });

  it('across New York fall-back a day is 25 hours', () => {
    expect(addLocalDays('2026-10-31T14:00:00.000Z', 1, 'America/New_York')).toBe('2026-11-01T15:00:00.000Z');
  });

  it('across Lord Howe’s 30-minute shift a day is 23.5 hours', () => {
    // 12:00 local on 3 October (+10:30) → 12:00 local on 4 October (+11).
    expect(addLocalDays('2026-10-03T01:30:00.000Z', 1, 'Australia/Lord_Howe')).toBe('2026-10-04T01:00:00.000Z');
  });

  it('a wall-clock time inside the gap moves forward by the gap', () => {
    // 02:30 on 14 March 2027 does not exist in New York: 03:30 EDT.
    expect(addLocalDays('2027-03-13T07:30:00.000Z', 1, 'America/New_York')).toBe('2027-03-14T07:30:00.000Z');
  });

  it('in UTC it is 24 hours a day', () => {
    expect(addLocalDays('2026-03-01T10:00:00.000Z', 30, 'UTC')).toBe('2026-03-31T10:00:00.000Z');
  });

  it('over Samoa’s skipped day, 2 calendar days are 1 day of elapsed time', () => {
    // 12:00 on 29 December 2011 (UTC-10) → 12:00 on 31 December (UTC+14).
    expect(addLocalDays('2011-12-29T22:00:00.000Z', 2, 'Pacific/Apia')).toBe('2011-12-30T22:00:00.000Z');
  });
});

describe('date inputs', () => {
  it('a day is resolved in the zone and remembered beside the instant; an instant is kept as is', () => {
    expect(resolveDate('2027-03-14', 'America/New_York', 'date')).toEqual({
      at: '2027-03-15T04:00:00.000Z',
      localDay: { date: '2027-03-14', timezone: 'America/New_York' },
    });
    expect(resolveDate('2027-03-14T12:00:00.000Z', 'America/New_York', 'date')).toEqual({
      at: '2027-03-14T12:00:00.000Z',
      localDay: null,
    });
  });

  it('a day that is not on the calendar is a 400 naming the field', () => {
    const error = thrownBy(() => resolveDate('2027-02-30', 'UTC', 'resumesAt'));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details).toEqual([
      { field: 'resumesAt', message: 'must be a calendar day YYYY-MM-DD or an ISO-8601 date-time' },
    ]);
  });

  it('tells days from instants and checks names', () => {
    expect(isLocalDate('2028-02-29')).toBe(true);
    expect(isLocalDate('2027-02-29')).toBe(false);
    expect(isLocalDate('2027-13-01')).toBe(false);
    expect(isLocalDate('27-03-14')).toBe(false);
    expect(isDayInput('2027-03-14')).toBe(true);
    expect(isDayInput('2027-03-14T00:00:00Z')).toBe(false);
    expect(isDayInput(null)).toBe(false);
    expect(isTimeZone('Australia/Lord_Howe')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});

describe('billing with days (rule 15)', () => {
  const site = { timezone: 'America/New_York' };

  it('cancel "on 2027-03-14" in New York takes effect at the next local midnight and keeps the day', () => {
    const purchase = aPurchase({ currentPeriodEnd: '2027-04-01T00:00:00.000Z' });
    const change = cancel(purchase, { when: 'date', date: '2027-03-14', timezone: site.timezone }, ADMIN, NOW);
    expect(change.purchase.cancellation).toEqual({
      when: 'date',
      effectiveAt: '2027-03-15T04:00:00.000Z',
      requestedBy: ADMIN,
      requestedAt: NOW.toISOString(),
      localDay: { date: '2027-03-14', timezone: 'America/New_York' },
    });
    expect(change.purchase.status).toBe('pending_cancellation');
    expect(change.history).toEqual([
      expect.objectContaining({
        type: 'cancellation.requested',
        details: expect.objectContaining({
          effectiveAt: '2027-03-15T04:00:00.000Z',
          localDay: { date: '2027-03-14', timezone: 'America/New_York' },
        }),
      }),
    ]);
  });

  it('the same day in Berlin ends an hour before UTC midnight', () => {
    const purchase = aPurchase({ currentPeriodEnd: '2027-04-01T00:00:00.000Z' });
    const plan = planCancellation(purchase, { when: 'date', date: '2027-03-14', timezone: 'Europe/Berlin' }, NOW);
    expect(plan.effectiveAt).toBe('2027-03-14T23:00:00.000Z');
  });

  it('previews a custom day on the fall-back day: renewals up to it, the last cycle prorated to local midnight', () => {
    // Monthly from 15 March 2026; 1 November 2026 is New York's 25-hour day.
    const purchase = aPurchase({ currentPeriodEnd: '2026-03-15T00:00:00.000Z' });
    const plan = planCancellation(purchase, { when: 'date', date: '2026-11-01', timezone: site.timezone }, NOW);
    expect(plan.effectiveAt).toBe('2026-11-02T05:00:00.000Z');
    expect(plan.localDay).toEqual({ date: '2026-11-01', timezone: 'America/New_York' });
    const renewals = plan.charges.filter((charge) => !charge.prorated);
    expect(renewals.map((charge) => charge.at)).toEqual([
      '2026-03-15T00:00:00.000Z',
      '2026-04-15T00:00:00.000Z',
      '2026-05-15T00:00:00.000Z',
      '2026-06-15T00:00:00.000Z',
      '2026-07-15T00:00:00.000Z',
      '2026-08-15T00:00:00.000Z',
      '2026-09-15T00:00:00.000Z',
    ]);
    const last = plan.charges.at(-1);
    expect(last).toMatchObject({ at: '2026-10-15T00:00:00.000Z', prorated: true, currency: 'usd' });
    // 18 days and 5 hours of a 31-day cycle: the extra hour of the 25-hour day is paid for.
    const fraction = (18 * 24 + 5) / (31 * 24);
    expect(last?.amount).toBe(Math.round(2900 * fraction));
  });

  it('a day already over in the site’s zone is refused, naming date', () => {
    // NOW is 2026-03-01T10:00Z: 28 February ended at 05:00Z in New York.
    const error = thrownBy(() =>
      planCancellation(aPurchase(), { when: 'date', date: '2026-02-28', timezone: site.timezone }, NOW),
    );
    expect((error as InvalidInputError).details).toEqual([{ field: 'date', message: 'must be in the future' }]);
  });

  it('pause through a day resumes at the next local midnight and keeps the day', () => {
    const change = pause(aPurchase(), '2026-03-29', ADMIN, NOW, 'Europe/Berlin');
    expect(change.purchase.pause).toEqual({
      pausedAt: NOW.toISOString(),
      resumesAt: '2026-03-29T22:00:00.000Z',
      localDay: { date: '2026-03-29', timezone: 'Europe/Berlin' },
    });
    expect(change.history[0]?.details).toEqual({
      resumesAt: '2026-03-29T22:00:00.000Z',
      localDay: { date: '2026-03-29', timezone: 'Europe/Berlin' },
    });
  });

  it('pause with an instant records no day', () => {
    const change = pause(aPurchase(), '2026-04-01T00:00:00.000Z', ADMIN, NOW, 'Europe/Berlin');
    expect(change.purchase.pause).toEqual({
      pausedAt: NOW.toISOString(),
      resumesAt: '2026-04-01T00:00:00.000Z',
      localDay: null,
    });
    expect(change.history[0]?.details).toEqual({ resumesAt: '2026-04-01T00:00:00.000Z' });
  });
});

describe('accessDays in the site’s calendar', () => {
  const grant = (timezone: string | undefined, now: Date) =>
    grantOffer({
      purchaseId: 'p1',
      customer: { siteId: 'site-1', customerId: 'c1' },
      offer: anOffer({ accessDays: 30, price: { type: 'one_time', amount: 4900, currency: 'usd' } }),
      processor: 'none',
      processorSubscriptionId: null,
      currentPeriodEnd: null,
      actor: ADMIN,
      now,
      ...(timezone ? { timezone } : {}),
    }).purchase;

  it('30 days over New York spring-forward end at the same local time: 30 × 24 h − 1 h', () => {
    const purchase = grant('America/New_York', new Date('2027-03-01T15:00:00.000Z')); // 10:00 EST
    expect(purchase.accessEndsAt).toBe('2027-03-31T14:00:00.000Z'); // 10:00 EDT
    expect(purchase.accessPeriodEndsAt).toBe(purchase.accessEndsAt);
  });

  it('without a zone (UTC sites) they are 30 × 24 h', () => {
    expect(grant(undefined, new Date('2027-03-01T15:00:00.000Z')).accessEndsAt).toBe('2027-03-31T15:00:00.000Z');
  });
});
