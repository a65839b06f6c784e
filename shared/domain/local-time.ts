import { Temporal } from 'temporal-polyfill';
import { InvalidInputError } from './errors.ts';
import type { Instant, LocalDate, LocalDay } from './types.ts';

/**
 * Days in a site's time zone (rule 15). An admin picks a day, not an instant: "cancel on 14 March" means
 * *through the end of* that day where the site is, so the effective instant is the start of the next local
 * day, whatever its length (DST days last 23 or 25 hours, Lord Howe shifts by 30 minutes, and Samoa skipped
 * 30 December 2011 altogether).
 *
 * Why `temporal-polyfill`: the arithmetic that is easy to get wrong (the start of a day whose midnight does
 * not exist, "same wall-clock time N days later" across a DST change) is exactly what Temporal specifies,
 * with the time-zone rules of the runtime's own ICU data (Intl), so there is no hand-made offset and no
 * second copy of the tz database. `Intl` alone formats instants but cannot map a local day back to an
 * instant without a hand-written search; date-fns-tz does that search with its own heuristics. This polyfill
 * (FullCalendar's, 1.0) follows the TC39 spec and is small enough for a Lambda bundle; when Node ships
 * Temporal natively it can be dropped without touching the callers.
 */

const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `YYYY-MM-DD` naming a day of the calendar (2027-02-30 is not one). */
export function isLocalDate(value: string): boolean {
  if (!LOCAL_DATE.test(value)) return false;
  try {
    Temporal.PlainDate.from(value, { overflow: 'reject' });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time-zone name the runtime knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(value: string): boolean {
  try {
    Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(value);
    return true;
  } catch {
    return false;
  }
}

function toInstantString(epochMilliseconds: number): Instant {
  return new Date(epochMilliseconds).toISOString();
}

/**
 * The end of `date` in `timezone`, i.e. the first instant of the next local day. A midnight that does not
 * exist (a DST gap at 00:00, or a skipped day) moves forward to the first instant that does, as Temporal's
 * start of day does, so the answer is always the moment the wall clock leaves `date`.
 */
export function endOfLocalDay(date: LocalDate, timezone: string): Instant {
  const nextDay = Temporal.PlainDate.from(date, { overflow: 'reject' }).add({ days: 1 });
  return toInstantString(nextDay.toZonedDateTime({ timeZone: timezone }).epochMilliseconds);
}

/** The calendar day `instant` falls on in `timezone`. */
export function localDateOf(instant: Instant, timezone: string): LocalDate {
  return Temporal.Instant.from(instant).toZonedDateTimeISO(timezone).toPlainDate().toString();
}

/**
 * The same local wall-clock time `days` calendar days later (rule 15, `accessDays`). Across a DST change
 * that is 23 or 25 hours per changed day, not 24; a wall-clock time that falls into a gap moves forward by
 * the gap (Temporal's `compatible` disambiguation).
 */
export function addLocalDays(instant: Instant, days: number, timezone: string): Instant {
  const local = Temporal.Instant.from(instant).toZonedDateTimeISO(timezone);
  return toInstantString(local.add({ days }).epochMilliseconds);
}

/** An instant as stored, plus the local day it came from when the admin gave a day. */
export interface ResolvedDate {
  at: Instant;
  localDay: LocalDay | null;
}

/**
 * A date the API accepts (`cancellation.date`, `pause.resumesAt`): an ISO-8601 instant is taken as is; a
 * `YYYY-MM-DD` day means through the end of that day in the site's `timezone`.
 */
export function resolveDate(value: string, timezone: string, field: string): ResolvedDate {
  if (LOCAL_DATE.test(value)) {
    if (!isLocalDate(value)) {
      throw new InvalidInputError(`${field} is not a day of the calendar`, [
        { field, message: 'must be a calendar day YYYY-MM-DD or an ISO-8601 date-time' },
      ]);
    }
    return { at: endOfLocalDay(value, timezone), localDay: { date: value, timezone } };
  }
  return { at: value, localDay: null };
}

/** Whether the API's date input is a day (whose meaning needs the site's time zone) rather than an instant. */
export function isDayInput(value: string | null | undefined): value is LocalDate {
  return typeof value === 'string' && LOCAL_DATE.test(value);
}
