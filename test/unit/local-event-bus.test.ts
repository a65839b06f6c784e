import { describe, expect, it } from '@jest/globals';
import { LocalEventBus } from '../../infra/local/event-bus.ts';
import type { BusEvent } from '../../shared/ports/event-bus.ts';
import { anEvent } from '../support/events.ts';

describe('the local event bus', () => {
  it('records what was published and lists it oldest first, duplicates included', async () => {
    const bus = new LocalEventBus();
    const [one, two, three] = [anEvent(1), anEvent(2), anEvent(3)];

    await bus.publish([two!, one!]);
    await bus.publish([three!, one!]);

    expect(bus.events().map((event) => event.id)).toEqual([one!.id, one!.id, two!.id, three!.id]);
  });

  it('filters by purchase and by site', async () => {
    const bus = new LocalEventBus();
    const mine = anEvent(1, { purchaseId: 'pur-a', siteId: 'site-a' });
    const other = anEvent(1, { purchaseId: 'pur-b', siteId: 'site-b' });
    await bus.publish([mine, other]);

    expect(bus.events({ purchaseId: 'pur-a' })).toEqual([mine]);
    expect(bus.events({ siteId: 'site-b' })).toEqual([other]);
  });

  it('keeps at most its capacity, dropping the oldest and counting them', async () => {
    const bus = new LocalEventBus(3);
    await bus.publish([1, 2, 3, 4, 5].map((n) => anEvent(n)));

    expect(bus.events().map((event) => 'sequence' in event && event.sequence)).toEqual([3, 4, 5]);
    expect(bus.stats()).toEqual({ published: 5, dropped: 2, kept: 3 });
  });

  it('hands each publish to subscribers in order, one at a time, and never fails a publish for them', async () => {
    const bus = new LocalEventBus();
    const seen: number[][] = [];
    let active = 0;
    let overlapped = false;
    bus.subscribe(async (events: BusEvent[]) => {
      active++;
      if (active > 1) overlapped = true;
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(events.map((event) => ('sequence' in event ? event.sequence : 0)));
      active--;
    });
    bus.subscribe(async () => {
      throw new Error('a broken subscriber');
    });

    const results = await Promise.all([bus.publish([anEvent(1)]), bus.publish([anEvent(2), anEvent(3)])]);
    await bus.idle();

    expect(results).toEqual([{ failed: [] }, { failed: [] }]);
    expect(seen).toEqual([[1], [2, 3]]);
    expect(overlapped).toBe(false);
  });

  it('stops calling a subscriber once it unsubscribed', async () => {
    const bus = new LocalEventBus();
    const seen: string[] = [];
    const unsubscribe = bus.subscribe(async (events) => {
      seen.push(...events.map((event) => event.id));
    });
    await bus.publish([anEvent(1)]);
    await bus.idle();
    unsubscribe();
    await bus.publish([anEvent(2)]);
    await bus.idle();

    expect(seen).toEqual([anEvent(1).id]);
  });
});
