import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResponse,
} from '@aws-sdk/client-eventbridge';
import type { EventBridgeBusConfig } from '../config.ts';
import { type BusEvent, EVENT_SOURCE, type EventBus, type PublishResult } from '../ports/event-bus.ts';

export { EVENT_SOURCE };

/** PutEvents takes at most 10 entries per request… */
export const MAX_ENTRIES_PER_REQUEST = 10;
/** …and at most 256 KB of entries, counted as `entrySize` counts them. */
export const MAX_REQUEST_BYTES = 256 * 1024;

/**
 * Per-entry error codes that AWS documents as not retryable (PutEventsResultEntry): the same entry can only
 * fail again, so it is returned at once instead of costing the remaining attempts. Any other code
 * (`InternalFailure`, `ThrottlingException`, or one added later) is retried.
 */
const PERMANENT_ENTRY_ERRORS: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'InvalidAccountIdException',
  'InvalidArgument',
  'MalformedDetail',
  'RedactionFailure',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
]);

export interface RetryPolicy {
  /** Attempts per entry, the first included. @default 4 */
  maxAttempts: number;
  /** Backoff before retry n is a random delay in [0, min(maxDelayMs, baseDelayMs × 2^(n-1))] ("full jitter"). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injected by tests. */
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/**
 * The size EventBridge counts for an entry against the 256 KB request limit ("Calculating PutEvents event
 * entry size"): 14 bytes for `Time` when set, plus the UTF-8 bytes of `Source`, `DetailType`, `Detail` and
 * each of `Resources`. The bus name is not counted.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time ? 14 : 0;
  size += Buffer.byteLength(entry.Source ?? '', 'utf8');
  size += Buffer.byteLength(entry.DetailType ?? '', 'utf8');
  if (entry.Detail !== undefined) size += Buffer.byteLength(entry.Detail, 'utf8');
  for (const resource of entry.Resources ?? []) size += Buffer.byteLength(resource, 'utf8');
  return size;
}

/**
 * Splits entries, in order, into requests of at most `MAX_ENTRIES_PER_REQUEST` entries and
 * `MAX_REQUEST_BYTES`. An entry that alone is over the byte limit is not placed (it could never be sent).
 */
export function toBatches<T>(items: readonly T[], sizeOf: (item: T) => number): { batches: T[][]; tooLarge: T[] } {
  const batches: T[][] = [];
  const tooLarge: T[] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (size > MAX_REQUEST_BYTES) {
      tooLarge.push(item);
      continue;
    }
    if (current.length === MAX_ENTRIES_PER_REQUEST || currentBytes + size > MAX_REQUEST_BYTES) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(item);
    currentBytes += size;
  }
  if (current.length > 0) batches.push(current);
  return { batches, tooLarge };
}

interface Pending {
  event: BusEvent;
  entry: PutEventsRequestEntry;
  size: number;
}

/**
 * The EventBus port on an EventBridge bus (DESIGN.md §5): `source: "membergate"`, `detail-type` = the event's
 * type, `detail` = the envelope as JSON, `time` = when it happened.
 *
 * PutEvents answers 200 even when entries failed, so every response's `FailedEntryCount` and per-entry
 * `ErrorCode` are read; only the entries that failed are sent again (a whole-batch resend would duplicate
 * the others), after a backoff with full jitter, a bounded number of times. What still failed, or failed
 * in a way a retry cannot fix, is returned with the bus's reason for the caller (the publisher) to report.
 * Whole-request errors (the SDK's own retries exhausted) count as a failure of every entry of that request.
 */
export class EventBridgeBus implements EventBus {
  private readonly retry: RetryPolicy;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly config: EventBridgeBusConfig,
    retry: Partial<RetryPolicy> = {},
  ) {
    this.retry = { ...DEFAULT_RETRY_POLICY, ...retry };
  }

  entry(event: BusEvent): PutEventsRequestEntry {
    const time = new Date(event.occurredAt);
    return {
      EventBusName: this.config.busName,
      Source: EVENT_SOURCE,
      DetailType: event.type,
      Detail: JSON.stringify(event),
      // Without a valid time EventBridge stamps the time it received the event; an invalid one would fail the request.
      ...(Number.isNaN(time.getTime()) ? {} : { Time: time }),
    };
  }

  async publish(events: BusEvent[]): Promise<PublishResult> {
    const failed: PublishResult['failed'] = [];
    let pending: Pending[] = events.map((event) => {
      const entry = this.entry(event);
      return { event, entry, size: entrySize(entry) };
    });
    for (let attempt = 1; pending.length > 0; attempt++) {
      const { batches, tooLarge } = toBatches(pending, (item) => item.size);
      for (const item of tooLarge) {
        failed.push({ event: item.event, reason: `EntryTooLarge: ${item.size} bytes, over ${MAX_REQUEST_BYTES}` });
      }
      const outcomes = await Promise.all(batches.map((batch) => this.send(batch)));
      const retryable: { item: Pending; reason: string }[] = [];
      for (const outcome of outcomes) {
        for (const { item, reason, permanent } of outcome) {
          if (permanent) failed.push({ event: item.event, reason });
          else retryable.push({ item, reason });
        }
      }
      if (attempt >= this.retry.maxAttempts) {
        for (const { item, reason } of retryable) failed.push({ event: item.event, reason });
        break;
      }
      pending = retryable.map(({ item }) => item);
      if (pending.length > 0) await this.retry.sleep(this.backoff(attempt));
    }
    return { failed };
  }

  /** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): retries of many publishers spread out. */
  backoff(attempt: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.retry.random() * ceiling);
  }

  /** One PutEvents; the entries that failed, each with its reason and whether a retry could help. */
  private async send(batch: Pending[]): Promise<{ item: Pending; reason: string; permanent: boolean }[]> {
    let response: PutEventsResponse;
    try {
      response = await this.client.send(new PutEventsCommand({ Entries: batch.map((item) => item.entry) }));
    } catch (error) {
      const reason = errorReason(error);
      // A request the service refused as wrong (bad bus name, no permission) fails the same way again.
      const permanent = isClientFault(error);
      return batch.map((item) => ({ item, reason, permanent }));
    }
    const results = response.Entries ?? [];
    const failedCount = response.FailedEntryCount ?? 0;
    const failures: { item: Pending; reason: string; permanent: boolean }[] = [];
    batch.forEach((item, index) => {
      const result = results[index];
      if (result?.ErrorCode) {
        failures.push({
          item,
          reason: `${result.ErrorCode}: ${result.ErrorMessage ?? 'no message'}`,
          permanent: PERMANENT_ENTRY_ERRORS.has(result.ErrorCode),
        });
      } else if (failedCount > 0 && !result?.EventId) {
        // Results are positional; one without an id after a reported failure is not known to be on the bus.
        failures.push({ item, reason: 'Unknown: no event id in the PutEvents result', permanent: false });
      }
    });
    return failures;
  }
}

function errorReason(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function isClientFault(error: unknown): boolean {
  const fault = (error as { $fault?: string; $retryable?: unknown } | null) ?? {};
  return fault.$fault === 'client' && !fault.$retryable && (error as Error).name !== 'ThrottlingException';
}

/** The production bus: what the wiring loads (shared/wiring.ts) for a function that publishes events. */
export function eventBridgeBus(config: EventBridgeBusConfig): EventBus {
  return new EventBridgeBus(new EventBridgeClient({}), config);
}
