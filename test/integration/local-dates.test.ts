import { describe, expect, it } from '@jest/globals';
import { apiHarness, seedSite } from '../support/harness.ts';

/**
 * Rule 15 over the API, on DynamoDB Local: an admin picks a day, read in the site's `timezone` setting; the
 * answer gives the instant and, beside it, the day it came from.
 */
async function siteIn(timezone: string, options: { accessDays?: number } = {}) {
  const api = apiHarness();
  api.clock.set('2026-12-01T10:00:00.000Z');
  const site = await seedSite(api, { currentPeriodEnd: '2027-04-01T00:00:00.000Z', ...options });
  const settings = await api.call('PUT', `/sites/${site.siteId}/settings`, { claims: site.claims, body: { timezone } });
  expect(settings.status).toBe(200);
  const purchasePath = `/sites/${site.siteId}/purchases/${site.purchaseId}`;
  return { api, site, purchasePath };
}

describe('dates in the site’s time zone', () => {
  it('cancel "on 2027-03-14" in New York: effective at the next EDT midnight, the day shown beside it', async () => {
    const { api, site, purchasePath } = await siteIn('America/New_York');

    const preview = await api.call('POST', `${purchasePath}/cancellation/preview`, {
      claims: site.claims,
      body: { when: 'date', date: '2027-03-14' },
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      accessEndsAt: '2027-03-15T04:00:00.000Z',
      localDay: { date: '2027-03-14', timezone: 'America/New_York' },
      charges: [],
    });

    const canceled = await api.call('POST', `${purchasePath}/cancellation`, {
      claims: site.claims,
      body: { when: 'date', date: '2027-03-14' },
    });
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('pending_cancellation');
    expect(canceled.body.cancellation).toMatchObject({
      when: 'date',
      effectiveAt: '2027-03-15T04:00:00.000Z',
      localDay: { date: '2027-03-14', timezone: 'America/New_York' },
    });
    expect(canceled.body.accessEndsAt).toBe('2027-03-15T04:00:00.000Z');
    expect(api.scheduler.forPurchase(site.purchaseId)).toEqual([
      expect.objectContaining({ purpose: 'cancellation', dueAt: '2027-03-15T04:00:00.000Z' }),
    ]);
    const stored = await api.call('GET', purchasePath, { claims: site.claims });
    expect(stored.body.cancellation.localDay).toEqual({ date: '2027-03-14', timezone: 'America/New_York' });
  });

  it('the same day for a Berlin site ends at 2027-03-14T23:00Z', async () => {
    const { api, site, purchasePath } = await siteIn('Europe/Berlin');
    const canceled = await api.call('POST', `${purchasePath}/cancellation`, {
      claims: site.claims,
      body: { when: 'date', date: '2027-03-14' },
    });
    expect(canceled.body.cancellation.effectiveAt).toBe('2027-03-14T23:00:00.000Z');
  });

  it('an instant is taken as given, with no local day', async () => {
    const { api, site, purchasePath } = await siteIn('Europe/Berlin');
    const canceled = await api.call('POST', `${purchasePath}/cancellation`, {
      claims: site.claims,
      body: { when: 'date', date: '2027-03-14T12:00:00Z' },
    });
    expect(canceled.body.cancellation).toMatchObject({ effectiveAt: '2027-03-14T12:00:00.000Z', localDay: null });
  });

  it('pause through a day resumes at the next local midnight', async () => {
    const { api, site, purchasePath } = await siteIn('Australia/Lord_Howe');
    const paused = await api.call('POST', `${purchasePath}/pause`, {
      claims: site.claims,
      body: { resumesAt: '2027-01-10' },
    });
    expect(paused.status).toBe(200);
    // Lord Howe is on summer time (UTC+11) in January: 11 January begins at 13:00Z on the 10th.
    expect(paused.body.pause).toMatchObject({
      resumesAt: '2027-01-10T13:00:00.000Z',
      localDay: { date: '2027-01-10', timezone: 'Australia/Lord_Howe' },
    });
  });

  it('accessDays counts the site’s calendar days across a DST change', async () => {
    const api = apiHarness();
    // 10:00 in New York on 1 March 2027; 30 days later is after spring-forward (14 March).
    api.clock.set('2027-03-01T15:00:00.000Z');
    const site = await seedSite(api, { accessDays: 30 });
    const settings = await api.call('PUT', `/sites/${site.siteId}/settings`, {
      claims: site.claims,
      body: { timezone: 'America/New_York' },
    });
    expect(settings.status).toBe(200);
    const again = await site.ok('POST', `/sites/${site.siteId}/purchases`, { customerId: 'cus-1', offerId: 'bundle' });
    expect(again.accessEndsAt).toBe('2027-03-31T14:00:00.000Z');
  });

  it.each([
    ['a day not on the calendar', { when: 'date', date: '2027-02-30' }],
    ['neither a day nor an instant', { when: 'date', date: '14/03/2027' }],
    ['a day already over where the site is', { when: 'date', date: '2026-11-30' }],
  ])('%s is a 400 naming date, and nothing changes', async (_case, body) => {
    const { api, site, purchasePath } = await siteIn('America/New_York');
    const before = await api.call('GET', purchasePath, { claims: site.claims });

    const refused = await api.call('POST', `${purchasePath}/cancellation`, { claims: site.claims, body });

    expect(refused.status).toBe(400);
    expect(refused.body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['date']);
    expect((await api.call('GET', purchasePath, { claims: site.claims })).body).toEqual(before.body);
  });
});
