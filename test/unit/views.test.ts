import { describe, expect, it } from '@jest/globals';
import { purchaseView } from '../../shared/domain/views.ts';
import { ADMIN, aPurchase } from './fixtures.ts';

const DAY = { date: '2027-03-14', timezone: 'America/New_York' };

describe('purchaseView: the local day beside the instant (rule 15)', () => {
  it('shows the day an admin picked for a cancellation and a pause, with every other field kept', () => {
    const view = purchaseView(
      aPurchase({
        cancellation: {
          when: 'date',
          effectiveAt: '2027-03-15T04:00:00.000Z',
          requestedBy: ADMIN,
          requestedAt: '2027-03-01T10:00:00.000Z',
          localDay: DAY,
        },
        pause: { pausedAt: '2027-03-01T10:00:00.000Z', resumesAt: '2027-03-15T04:00:00.000Z', localDay: DAY },
      }),
    );

    expect(view.cancellation).toEqual({
      when: 'date',
      effectiveAt: '2027-03-15T04:00:00.000Z',
      requestedBy: ADMIN,
      requestedAt: '2027-03-01T10:00:00.000Z',
      localDay: DAY,
    });
    expect(view.pause).toEqual({
      pausedAt: '2027-03-01T10:00:00.000Z',
      resumesAt: '2027-03-15T04:00:00.000Z',
      localDay: DAY,
    });
  });

  it('says localDay null when an instant was given (also for purchases stored before days existed)', () => {
    const view = purchaseView(
      aPurchase({
        cancellation: {
          when: 'date',
          effectiveAt: '2027-03-15T04:00:00.000Z',
          requestedBy: ADMIN,
          requestedAt: '2027-03-01T10:00:00.000Z',
        },
        pause: { pausedAt: '2027-03-01T10:00:00.000Z', resumesAt: null },
      }),
    );

    expect(view.cancellation?.localDay).toBeNull();
    expect(view.pause).toEqual({ pausedAt: '2027-03-01T10:00:00.000Z', resumesAt: null, localDay: null });
    expect(purchaseView(aPurchase({ cancellation: null, pause: null }))).toMatchObject({
      cancellation: null,
      pause: null,
    });
  });
});
