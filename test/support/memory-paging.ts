import { createHash } from 'node:crypto';
import { InvalidInputError } from '../../shared/domain/errors.ts';
import type { Page } from '../../shared/ports/purchases.ts';

/** A deep copy, so a caller can never change what an in-memory store holds. */
export const copy = <T>(value: T): T => structuredClone(value);

/** Code-unit order, as DynamoDB sorts ASCII keys (not `localeCompare`, which ignores `#` and case). */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One page of `rows` in sort-key order (either way) after the cursor's position: the in-memory twins' paging.
 * A cursor is opaque and bound to its list (`list`: which list, site and filters); one of another list, or
 * anything else, is refused as bad input, as the DynamoDB stores refuse it.
 */
export function page<T>(
  rows: { sortKey: string; item: T }[],
  list: (string | null)[],
  limit: number,
  cursor: string | null,
  order: 'ascending' | 'descending' = 'ascending',
): Page<T> {
  const binding = createHash('sha256').update(JSON.stringify(list)).digest('base64url').slice(0, 22);
  const after = cursor === null ? null : decodeCursor(cursor, binding);
  const sign = order === 'ascending' ? 1 : -1;
  const sorted = rows.sort((a, b) => sign * compare(a.sortKey, b.sortKey));
  const rest = after === null ? sorted : sorted.filter((row) => sign * compare(row.sortKey, after) > 0);
  const items = rest.slice(0, limit);
  const last = items.at(-1);
  const nextCursor =
    rest.length > limit && last
      ? Buffer.from(JSON.stringify({ list: binding, after: last.sortKey })).toString('base64url')
      : null;
  return { items: items.map((row) => copy(row.item)), nextCursor };
}

function decodeCursor(cursor: string, binding: string): string {
  let decoded: { list?: unknown; after?: unknown } | null = null;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    // refused below
  }
  if (decoded && typeof decoded === 'object' && decoded.list === binding && typeof decoded.after === 'string') {
    return decoded.after;
  }
  throw new InvalidInputError('cursor is not valid for this list', [
    { field: 'cursor', message: 'not a cursor returned by this list with these filters' },
  ]);
}
