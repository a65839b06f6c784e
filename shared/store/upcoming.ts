import { createHash } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidInputError } from '../domain/errors.ts';
import { type UpcomingChange, utcDays } from '../domain/upcoming.ts';
import type { DuePurchase, DueQuery, Page, UpcomingQuery } from '../ports/purchases.ts';
import { DUE_LOOKBACK_HOURS } from '../ports/purchases.ts';
import { upcomingOf } from './items.ts';
import { keys } from './keys.ts';
import { TABLE_SCHEMA } from './schema.ts';
import type { Item, Table } from './table.ts';

/**
 * Reads of the two timed-change indexes (keys.ts has the layout and the numbers): a site's calendar, one
 * partition per UTC day, and the sweeper's due index, one partition per UTC hour and shard. Both walk their
 * partitions in order with a cursor that says where the walk stands (which partition, and the last key read
 * in it), bound to its list like every cursor (pagination.ts): another site's, window's or type's cursor, or
 * a forged one, is refused as bad input before any read.
 */

/**
 * A calendar page walks at most this many day partitions, so that one request's work is bounded even for a
 * year-long window with nothing in it: the default 30-day window (31 days) fits in one page.
 */
export const UPCOMING_DAYS_PER_PAGE = 32;

const CALENDAR_KEY_ATTRIBUTES = ['pk', 'sk', TABLE_SCHEMA.upcoming.partitionKey, TABLE_SCHEMA.upcoming.sortKey];
const DUE_KEY_ATTRIBUTES = ['pk', 'sk', TABLE_SCHEMA.byDue.partitionKey, TABLE_SCHEMA.byDue.sortKey];

interface Position {
  list: string;
  /** Index of the partition the walk stands at (a day of the window; an (hour, shard) of the due walk). */
  at: number;
  /** The last key read in that partition; absent: start the partition from its beginning. */
  key?: Item;
}

function binding(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}

function encode(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function refuseCursor(): never {
  throw new InvalidInputError('cursor is not valid for this list', [
    { field: 'cursor', message: 'not a cursor returned by this list with these filters' },
  ]);
}

/** Accepts only a position this list issued, within its partitions, whose key is exactly a key of the index. */
function decode(
  cursor: string,
  list: string,
  partitions: number,
  keyAttributes: string[],
  validKey: (key: Item, at: number) => boolean,
): { at: number; key: Item | undefined } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return refuseCursor();
  }
  if (typeof decoded !== 'object' || decoded === null) return refuseCursor();
  const { list: given, at, key } = decoded as { list?: unknown; at?: unknown; key?: unknown };
  if (given !== list || !Number.isInteger(at) || (at as number) < 0 || (at as number) >= partitions) {
    return refuseCursor();
  }
  if (key === undefined) return { at: at as number, key: undefined };
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return refuseCursor();
  const values = key as Item;
  const wellFormed =
    Object.keys(values).length === keyAttributes.length &&
    keyAttributes.every((name) => typeof values[name] === 'string' && values[name] !== '') &&
    validKey(values, at as number);
  return wellFormed ? { at: at as number, key: values } : refuseCursor();
}

const pick = (item: Item, names: string[]): Item => Object.fromEntries(names.map((name) => [name, item[name]]));

/** A site's timed changes in `[from, to)`, soonest first; see `PurchaseStore.listUpcoming`. */
export async function listUpcoming(
  table: Table,
  siteId: string,
  query: UpcomingQuery,
  limit: number,
  cursor: string | null,
): Promise<Page<UpcomingChange>> {
  const days = utcDays(query);
  const list = binding([table.name, 'upcoming', siteId, query.from, query.to, query.type ?? null]);
  const index = TABLE_SCHEMA.upcoming;
  // The sort key is `<at>#<purchaseId>#<type>`; instants are all 24 characters, so `from <= sk <= to`
  // holds exactly for `from <= at < to` (an entry at `to` sorts after `to` itself).
  const inWindow = (sk: unknown) => typeof sk === 'string' && sk >= query.from && sk <= query.to;
  const start = cursor
    ? decode(
        cursor,
        list,
        days.length,
        CALENDAR_KEY_ATTRIBUTES,
        (key, at) =>
          key[index.partitionKey] === keys.upcomingPartition(siteId, days[at]!) &&
          String(key.pk).startsWith(`${keys.purchasePartition(siteId, '')}`) &&
          // A calendar item is a purchase (its status's change) or an entry of its own beside it.
          (key.sk === keys.purchase(siteId, '').sk || String(key.sk).startsWith(keys.upcomingEntryPrefix)) &&
          inWindow(key[index.sortKey]),
      )
    : { at: 0, key: undefined };

  const found: Item[] = [];
  let startKey = start.key;
  for (let day = start.at; day < days.length; day++) {
    if (day - start.at === UPCOMING_DAYS_PER_PAGE)
      return { items: found.map(upcomingOf), nextCursor: encode({ list, at: day }) };
    do {
      const result = await table.db.send(
        new QueryCommand({
          TableName: table.name,
          IndexName: index.indexName,
          KeyConditionExpression: `${index.partitionKey} = :pk AND ${index.sortKey} BETWEEN :from AND :to`,
          ExpressionAttributeValues: {
            ':pk': keys.upcomingPartition(siteId, days[day]!),
            ':from': query.from,
            ':to': query.to,
            ...(query.type ? { ':type': query.type } : {}),
          },
          // An entry names its type in `type`, a purchase item in the change it carries (`upcomingChange`).
          ...(query.type
            ? {
                FilterExpression: '#type = :type OR upcomingChange.#type = :type',
                ExpressionAttributeNames: { '#type': 'type' },
              }
            : {}),
          Limit: limit - found.length,
          ExclusiveStartKey: startKey,
        }),
      );
      found.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
      if (found.length >= limit) {
        const items = found.map(upcomingOf);
        if (startKey)
          return { items, nextCursor: encode({ list, at: day, key: pick(startKey, CALENDAR_KEY_ATTRIBUTES) }) };
        return { items, nextCursor: day + 1 < days.length ? encode({ list, at: day + 1 }) : null };
      }
    } while (startKey);
  }
  return { items: found.map(upcomingOf), nextCursor: null };
}

/** The UTC hours `YYYY-MM-DDTHH` from `lookbackHours` before now's hour to now's, oldest first. */
export function dueHours(now: Date, lookbackHours: number): string[] {
  const hours: string[] = [];
  for (let back = lookbackHours; back >= 0; back--) {
    hours.push(new Date(now.getTime() - back * 3_600_000).toISOString().slice(0, 13));
  }
  return hours;
}

/**
 * Every site's due actions at `now`; see `PurchaseStore.listDue`. The walk's partitions are (hour, shard)
 * pairs, hour-major. The shards of one hour are read in parallel (a page waits for one round trip per hour,
 * not sixteen), then taken in shard order; what a page could not take is read again by the next page.
 */
export async function listDue(table: Table, now: Date, query: DueQuery = {}): Promise<Page<DuePurchase>> {
  const lookbackHours = query.lookbackHours ?? DUE_LOOKBACK_HOURS;
  const limit = query.limit ?? 200;
  const shards = keys.dueShards;
  const hours = dueHours(now, lookbackHours);
  const upTo = `${now.toISOString()}#~`;
  const list = binding([table.name, 'due', now.toISOString(), lookbackHours]);
  const partition = (at: number) => keys.duePartition(hours[Math.floor(at / shards)]!, at % shards);
  const index = TABLE_SCHEMA.byDue;
  const start = query.cursor
    ? decode(
        query.cursor,
        list,
        hours.length * shards,
        DUE_KEY_ATTRIBUTES,
        (key, at) => key[index.partitionKey] === partition(at) && String(key[index.sortKey]) <= upTo,
      )
    : { at: 0, key: undefined };

  /** Up to `max` due entries of one partition after `from`, and whether it has more. */
  const readShard = async (at: number, max: number, from: Item | undefined) => {
    const items: Item[] = [];
    let startKey = from;
    do {
      const result = await table.db.send(
        new QueryCommand({
          TableName: table.name,
          IndexName: index.indexName,
          KeyConditionExpression: `${index.partitionKey} = :pk AND ${index.sortKey} <= :upTo`,
          ExpressionAttributeValues: { ':pk': partition(at), ':upTo': upTo },
          ProjectionExpression: 'pk, sk, gsi3pk, gsi3sk, siteId, purchaseId',
          Limit: max - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
    } while (startKey && items.length < max);
    return { items, more: startKey !== undefined };
  };

  const taken: DuePurchase[] = [];
  for (let hourStart = Math.floor(start.at / shards) * shards; hourStart < hours.length * shards; hourStart += shards) {
    const first = Math.max(hourStart, start.at);
    const room = limit - taken.length;
    const partitions = Array.from({ length: hourStart + shards - first }, (_, i) => first + i);
    const results = await Promise.all(
      partitions.map((at) => readShard(at, room, at === start.at ? start.key : undefined)),
    );
    for (const [i, at] of partitions.entries()) {
      const { items, more } = results[i]!;
      const space = limit - taken.length;
      const take = items.slice(0, space);
      taken.push(
        ...take.map((item) => ({
          siteId: String(item.siteId),
          purchaseId: String(item.purchaseId),
          dueAt: String(item[index.sortKey]).split('#')[0]!,
        })),
      );
      if (taken.length === limit) {
        const cut = items.length > take.length || more;
        if (cut) return { items: taken, nextCursor: encode({ list, at, key: pick(take.at(-1)!, DUE_KEY_ATTRIBUTES) }) };
        return { items: taken, nextCursor: at + 1 < hours.length * shards ? encode({ list, at: at + 1 }) : null };
      }
    }
  }
  return { items: taken, nextCursor: null };
}
