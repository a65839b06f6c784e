import { InvalidInputError } from '../domain/errors.ts';
import type { Instant } from '../domain/types.ts';
import { type UpcomingChange, type UpcomingType, upcomingWindow } from '../domain/upcoming.ts';
import type { Dependencies } from './deps.ts';

export interface UpcomingRequest {
  from?: Instant | undefined;
  to?: Instant | undefined;
  type?: UpcomingType | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface UpcomingPage {
  /** The window that was listed, so a caller relying on the defaults sees which one it got. */
  from: Instant;
  to: Instant;
  items: UpcomingChange[];
  nextCursor: string | null;
}

/**
 * Use case card: the site's calendar of timed changes (DESIGN.md §2.1 "Upcoming").
 * Input: an optional window `[from, to)` (default: the next 30 days), type, page size and cursor.
 * Output: one page of changes, soonest first, and the cursor of the next.
 * Main course: fix the window (rules in domain/upcoming.ts), read one page of the site's calendar index.
 * A cursor remembers its window: the next page needs only the cursor (the default `from` is "now", which has
 * moved by then); a `from`/`to`/`type` sent with a cursor must be the ones it came from (400 `cursor` if not).
 * Only the site's own partitions are read, so nothing of another site can appear.
 */
export async function listUpcoming(
  deps: Pick<Dependencies, 'purchases'>,
  siteId: string,
  request: UpcomingRequest,
  now: Date,
): Promise<UpcomingPage> {
  const carried = request.cursor ? unwrap(request.cursor) : null;
  const window = upcomingWindow(request.from ?? carried?.from ?? null, request.to ?? carried?.to ?? null, now);
  const query = { ...window, type: request.type };
  const page = await deps.purchases.listUpcoming(siteId, query, request.limit, carried?.inner ?? null);
  return {
    ...window,
    items: page.items,
    nextCursor: page.nextCursor === null ? null : wrap({ ...window, inner: page.nextCursor }),
  };
}

interface Carried {
  from: Instant;
  to: Instant;
  /** The store's own cursor, bound to the site, window and type. */
  inner: string;
}

function wrap(carried: Carried): string {
  return Buffer.from(JSON.stringify(carried)).toString('base64url');
}

function unwrap(cursor: string): Carried {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = null;
  }
  const instant = (value: unknown) =>
    typeof value === 'string' &&
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value) &&
    !Number.isNaN(Date.parse(value));
  if (typeof decoded === 'object' && decoded !== null) {
    const { from, to, inner } = decoded as Record<string, unknown>;
    if (instant(from) && instant(to) && typeof inner === 'string' && inner !== '') {
      return { from: from as Instant, to: to as Instant, inner };
    }
  }
  throw new InvalidInputError('cursor is not valid for this list', [
    { field: 'cursor', message: 'not a cursor returned by this list with these filters' },
  ]);
}
