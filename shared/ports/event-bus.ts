import type { DomainEvent } from '../domain/events.ts';

/**
 * An event about a site rather than one purchase (e.g. `webhook_endpoint.disabled`): same envelope fields
 * where they apply, no purchase and no sequence.
 */
export interface SiteEvent {
  id: string;
  type: string;
  siteId: string;
  occurredAt: string;
  actor: DomainEvent['actor'];
  data: Record<string, unknown>;
}

export type BusEvent = DomainEvent | SiteEvent;

/** The `source` of every event membergate publishes (EventBridge rules match on it; README, Events). */
export const EVENT_SOURCE = 'membergate';

/** The events a publish could not deliver, each with the bus's reason; the caller retries or dead-letters them. */
export interface PublishResult {
  failed: { event: BusEvent; reason: string }[];
}

/**
 * Port for the outbound event bus (DESIGN.md §5). AWS: an EventBridge bus, `source: "membergate"`,
 * `detail-type` = type, `detail` = the envelope (shared/adapters/eventbridge-bus.ts). Locally: a bus that
 * records what was published and hands it to local subscribers (infra/local/event-bus.ts). Delivery is at
 * least once: consumers deduplicate by `id`.
 */
export interface EventBus {
  publish(events: BusEvent[]): Promise<PublishResult>;
}
