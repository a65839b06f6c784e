import type { BusEvent, EventBus, PublishResult } from '../../shared/ports/event-bus.ts';

/** What a subscriber is handed: the events of one publish, in the order they were published. */
export type BusListener = (events: BusEvent[]) => Promise<void>;

export interface RecordedEvent {
  event: BusEvent;
  /** When the bus accepted it (ISO-8601), for latency measurements. */
  publishedAt: string;
}

export interface EventQuery {
  siteId?: string | undefined;
  purchaseId?: string | undefined;
}

/** Enough for a day of local clicking, small enough never to matter for memory. */
const DEFAULT_CAPACITY = 10_000;

/**
 * The local stand-in for the stack's EventBridge bus (`npm start`): the outbox publisher publishes here, the
 * bus keeps the latest events in memory (bounded: the oldest are dropped first, and counted) for
 * `GET /local/events`, and hands each publish to its subscribers (local rules: the integrator webhooks'
 * delivery subscribes here, as their EventBridge rule does on AWS).
 *
 * Like EventBridge, accepting an event and delivering it to targets are separate: `publish` never waits
 * for a subscriber and never fails because one did. Each subscriber gets the publishes one at a time, in
 * order; a subscriber's error is logged and does not stop its next delivery.
 */
export class LocalEventBus implements EventBus {
  private readonly recorded: RecordedEvent[] = [];
  private readonly listeners = new Map<BusListener, Promise<void>>();
  private droppedCount = 0;
  private publishedCount = 0;

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  async publish(events: BusEvent[]): Promise<PublishResult> {
    const publishedAt = new Date().toISOString();
    for (const event of events) {
      this.recorded.push({ event, publishedAt });
      this.publishedCount++;
    }
    const excess = this.recorded.length - this.capacity;
    if (excess > 0) {
      this.recorded.splice(0, excess);
      this.droppedCount += excess;
    }
    if (events.length > 0) {
      for (const [listener, previous] of this.listeners) {
        // Chained per listener: deliveries to one subscriber never overlap and keep publish order.
        const delivery = previous
          .then(() => listener([...events]))
          .catch((error: unknown) => {
            console.error(
              JSON.stringify({ level: 'ERROR', message: 'local bus subscriber failed', error: String(error) }),
            );
          });
        this.listeners.set(listener, delivery);
      }
    }
    return { failed: [] };
  }

  /** Calls `listener` with every later publish; returns the unsubscribe function. */
  subscribe(listener: BusListener): () => void {
    if (!this.listeners.has(listener)) this.listeners.set(listener, Promise.resolve());
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Resolves when every delivery to subscribers started so far has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.listeners.values()]);
  }

  /**
   * The recorded envelopes, oldest first (by `occurredAt`, then `sequence`), optionally of one site or
   * purchase. A redelivered event appears as often as it was published: delivery is at least once.
   */
  events(query: EventQuery = {}): BusEvent[] {
    return this.recorded
      .map((recorded) => recorded.event)
      .filter((event) => !query.siteId || event.siteId === query.siteId)
      .filter((event) => !query.purchaseId || ('purchaseId' in event && event.purchaseId === query.purchaseId))
      .sort(oldestFirst);
  }

  /** Everything recorded, with publish times, in publish order. */
  records(): readonly RecordedEvent[] {
    return this.recorded;
  }

  /** How many events were published since start, and how many of those the bound has dropped. */
  stats(): { published: number; dropped: number; kept: number } {
    return { published: this.publishedCount, dropped: this.droppedCount, kept: this.recorded.length };
  }
}

function oldestFirst(a: BusEvent, b: BusEvent): number {
  if (a.occurredAt !== b.occurredAt) return a.occurredAt < b.occurredAt ? -1 : 1;
  const sequenceA = 'sequence' in a ? a.sequence : 0;
  const sequenceB = 'sequence' in b ? b.sequence : 0;
  return sequenceA - sequenceB;
}
