import type { DomainEvent } from '../domain/events.ts';

/**
 * The outbox as the table's stream shows it. Every history item (`entity: 'history'`, written by
 * `historyPuts` in ./items.ts in the purchase's own transaction) carries its event's full envelope under
 * `event`; its INSERT record on the stream is that event, ready to publish. Nothing else on the stream is:
 * purchase and customer-copy writes, index items, local timers and checkpoints are ignored.
 */

/** An attribute value as a stream record carries it: Lambda's event (binary as base64) or the Streams SDK's. */
export interface StreamAttributeValue {
  S?: string;
  N?: string;
  B?: string | Uint8Array;
  SS?: string[];
  NS?: string[];
  BS?: (string | Uint8Array)[];
  M?: Record<string, StreamAttributeValue>;
  L?: StreamAttributeValue[];
  NULL?: boolean;
  BOOL?: boolean;
}

/** What the publisher reads of a stream record; Lambda's `DynamoDBRecord` and the SDK's `_Record` both fit. */
export interface StreamRecordLike {
  eventName?: string;
  dynamodb?: {
    SequenceNumber?: string;
    NewImage?: Record<string, StreamAttributeValue>;
  };
}

/** The `entity` of the items that are events. */
export const OUTBOX_ENTITY = 'history';

/**
 * The event-source filter (Lambda's filter-pattern syntax, equality only): history inserts. The stack gives
 * it to the publisher's event source mapping, so Lambda is invoked only for events; the local poller applies
 * the same object (`matchesFilter`), so both runtimes drop the same records.
 */
export const OUTBOX_STREAM_FILTER = {
  eventName: ['INSERT'],
  dynamodb: { NewImage: { entity: { S: [OUTBOX_ENTITY] } } },
} as const;

/** A filter pattern of nested objects whose leaves list the allowed values. */
type FilterPattern = { readonly [key: string]: FilterPattern | readonly (string | number | boolean)[] };

/** Whether `value` matches an equality-only filter pattern (what `OUTBOX_STREAM_FILTER` uses of the syntax). */
export function matchesFilter(pattern: FilterPattern, value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = (value as Record<string, unknown>)[key];
    if (Array.isArray(expected)) return (expected as readonly unknown[]).includes(actual);
    return matchesFilter(expected as FilterPattern, actual);
  });
}

/** An INSERT of a history item: a record to publish. Checked again in code, whatever filter ran before. */
export function isOutboxInsert(record: StreamRecordLike): boolean {
  return matchesFilter(OUTBOX_STREAM_FILTER, record);
}

/** A history insert whose `event` is missing or not an envelope: a bug to surface, never to skip silently. */
export class MalformedOutboxRecordError extends Error {
  override readonly name = 'MalformedOutboxRecordError';
}

/** The envelope an outbox insert carries (`NewImage.event`). */
export function outboxEvent(record: StreamRecordLike): DomainEvent {
  const image = record.dynamodb?.NewImage;
  const item = `history item ${image?.pk?.S ?? '?'} / ${image?.sk?.S ?? '?'}`;
  let event: unknown;
  try {
    event = image?.event === undefined ? undefined : fromAttributeValue(image.event, 'event');
  } catch (error) {
    throw new MalformedOutboxRecordError(`${item}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isEnvelope(event)) throw new MalformedOutboxRecordError(`${item} has no event envelope`);
  return event as unknown as DomainEvent;
}

function isEnvelope(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const event = value as Record<string, unknown>;
  return (
    typeof event.id === 'string' &&
    typeof event.type === 'string' &&
    typeof event.siteId === 'string' &&
    typeof event.purchaseId === 'string' &&
    typeof event.sequence === 'number' &&
    Number.isInteger(event.sequence) &&
    typeof event.occurredAt === 'string'
  );
}

/**
 * A stream attribute value as the plain value the document client wrote. Numbers become JS numbers (the
 * envelope holds only sequence numbers, versions and amounts in cents, all safe integers); sets, which
 * the document client only writes from a `Set`, become arrays; binary becomes bytes.
 */
export function fromAttributeValue(value: StreamAttributeValue, path = '$'): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.M !== undefined) {
    return Object.fromEntries(
      Object.entries(value.M).map(([key, inner]) => [key, fromAttributeValue(inner, `${path}.${key}`)]),
    );
  }
  if (value.L !== undefined) return value.L.map((inner, index) => fromAttributeValue(inner, `${path}[${index}]`));
  if (value.SS !== undefined) return [...value.SS];
  if (value.NS !== undefined) return value.NS.map(Number);
  if (value.B !== undefined) return bytes(value.B);
  if (value.BS !== undefined) return value.BS.map(bytes);
  // DynamoDB Local's stream renders an empty map (`{M: {}}` in the table, as GetItem shows) as a value with no
  // type at all. No other type can be empty (sets never are; an empty list keeps its `L`), so `{}` is that map.
  if (Object.keys(value).length === 0) return {};
  throw new MalformedOutboxRecordError(`unknown attribute value type at ${path}: ${JSON.stringify(value)}`);
}

function bytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
}
