import type { Instant } from './types.ts';

/** A clock is injected everywhere rules need "now"; tests pass a fixed one. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

export function toInstant(date: Date): Instant {
  return date.toISOString();
}

export function addDays(instant: Instant, days: number): Instant {
  return new Date(Date.parse(instant) + days * 86_400_000).toISOString();
}

/** True when `instant` is at or before `now`: an end instant is exclusive, so access ends exactly at it. */
export function hasPassed(instant: Instant, now: Date): boolean {
  return Date.parse(instant) <= now.getTime();
}

/** The earliest of some instants (ISO-8601 UTC strings of one width sort like the instants they name). */
export function earliest(instants: readonly (Instant | null | undefined)[]): Instant | null {
  let result: Instant | null = null;
  for (const instant of instants) if (instant && (result === null || instant < result)) result = instant;
  return result;
}
