import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { EventBridgeBusConfig } from '../../shared/config.ts';
import type { BusEvent, EventBus } from '../../shared/ports/event-bus.ts';
import { productionHandler } from '../../shared/wiring.ts';
import { anEvent } from '../support/events.ts';

// The publisher's production wiring (FUNCTION_NEEDS.publisher): the EventBridge bus and nothing else, not
// even the table; the bus adapter (with the EventBridge client) loaded by the first publish.

const saved = { ...process.env };
beforeEach(() => {
  delete process.env.TABLE_NAME;
  process.env.EVENT_BUS_NAME = 'Membergate-events';
});
afterEach(() => {
  process.env = { ...saved };
});

const echo =
  <W>(wired: W) =>
  async () =>
    wired;

describe('the publisher wiring', () => {
  it('needs no TABLE_NAME and gets no store: it only reads the stream it is invoked with', async () => {
    const handler = productionHandler('publisher', { eventBus: async () => ({ eventBridgeBus: () => noBus }) }, echo);

    const wired = await handler();

    expect(wired).not.toHaveProperty('deps');
    expect(wired).toHaveProperty('eventBus');
  });

  it('stops the cold start naming EVENT_BUS_NAME when the stack did not set it', () => {
    delete process.env.EVENT_BUS_NAME;

    expect(() =>
      productionHandler('publisher', { eventBus: async () => ({ eventBridgeBus: () => noBus }) }, echo),
    ).toThrow('EVENT_BUS_NAME');
  });

  it('loads the bus adapter on the first publish, once, with the bus name read at cold start', async () => {
    const published: BusEvent[] = [];
    const configs: EventBridgeBusConfig[] = [];
    const load = jest.fn(async () => ({
      eventBridgeBus: (config: EventBridgeBusConfig): EventBus => {
        configs.push(config);
        return {
          publish: async (events) => {
            published.push(...events);
            return { failed: [] };
          },
        };
      },
    }));
    const { eventBus } = await productionHandler('publisher', { eventBus: load }, echo)();
    expect(load).not.toHaveBeenCalled();

    await eventBus.publish([anEvent(1)]);
    await eventBus.publish([anEvent(2)]);

    expect(load).toHaveBeenCalledTimes(1);
    expect(configs).toEqual([{ busName: 'Membergate-events' }]);
    expect(published.map((event) => event.id)).toEqual([anEvent(1).id, anEvent(2).id]);
  });

  it('refuses an event bus loader for a function that publishes nothing', () => {
    process.env.TABLE_NAME = 'membergate-unit';
    const loaders = { eventBus: async () => ({ eventBridgeBus: () => noBus }) };

    expect(() => productionHandler('catalog', loaders as never, echo)).toThrow('unexpected adapter loader "eventBus"');
  });
});

const noBus: EventBus = { publish: async () => ({ failed: [] }) };
