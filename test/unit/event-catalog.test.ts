import { describe, expect, it } from '@jest/globals';
import { domainEventSchema, EVENT_CATALOG, eventJsonSchemas } from '../../shared/domain/event-catalog.ts';
import { eventId, sequenceChange, toEvent } from '../../shared/domain/events.ts';
import { grantOffer, revokeAccess } from '../../shared/domain/grants.ts';
import { HISTORY_TYPES } from '../../shared/domain/types.ts';
import { anOffer } from './fixtures.ts';

const NOW = new Date('2026-11-21T10:00:00.000Z');
const admin = { type: 'admin' as const, email: 'owner@example.com' };

describe('event catalog', () => {
  it('documents every history type with a meaning and a JSON Schema whose type is that type', () => {
    const schemas = eventJsonSchemas() as Record<string, { properties: { type: { const: string } } }>;
    expect(Object.keys(EVENT_CATALOG).sort()).toEqual([...HISTORY_TYPES].sort());
    for (const type of HISTORY_TYPES) {
      expect(EVENT_CATALOG[type].meaning.length).toBeGreaterThan(10);
      expect(schemas[type]!.properties.type.const).toBe(type);
    }
  });

  it('a real grant and revoke produce events the catalog accepts; a wrong envelope is refused', () => {
    const granted = grantOffer({
      purchaseId: 'p-1',
      customer: { siteId: 's-1', customerId: 'c-1' },
      offer: anOffer(),
      processor: 'none',
      processorSubscriptionId: null,
      currentPeriodEnd: null,
      actor: admin,
      now: NOW,
    });
    const first = sequenceChange(granted);
    const revoked = sequenceChange(revokeAccess(first.purchase, undefined, admin, NOW)!);

    const events = [
      ...first.entries.map((e) => toEvent(first.purchase, e)),
      ...revoked.entries.map((e) => toEvent(revoked.purchase, e)),
    ];

    expect(events.map((e) => [e.sequence, e.type])).toEqual([
      [1, 'purchase.granted'],
      [2, 'access.revoked'],
    ]);
    for (const event of events) expect(domainEventSchema.safeParse(event).success).toBe(true);
    expect(domainEventSchema.safeParse({ ...events[1], sequence: 0 }).success).toBe(false);
    expect(domainEventSchema.safeParse({ ...events[1], type: 'access.deleted' }).success).toBe(false);
  });

  it('event ids are stable for a purchase and sequence and differ otherwise', () => {
    expect(eventId('s', 'p', 1)).toBe(eventId('s', 'p', 1));
    expect(new Set([eventId('s', 'p', 1), eventId('s', 'p', 2), eventId('s', 'q', 1), eventId('t', 'p', 1)]).size).toBe(
      4,
    );
  });
});
