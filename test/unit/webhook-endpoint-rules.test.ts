import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { HISTORY_TYPES } from '../../shared/domain/types.ts';
import {
  afterAttempt,
  canceledAttempt,
  DELIVERY_RETENTION_DAYS,
  DELIVERY_TIMEOUT_MS,
  type DeliveryJob,
  describeFailure,
  disabledEventId,
  endpointView,
  exhaustedReason,
  MAX_ATTEMPTS,
  MAX_ENDPOINTS_PER_SITE,
  PREVIOUS_SECRET_GRACE_MS,
  RETRY_DELAYS_SECONDS,
  retryDelaySeconds,
  SITE_EVENT_TYPES,
  signingSecrets,
  succeeded,
  WEBHOOK_EVENT_TYPES,
  type WebhookEndpoint,
} from '../../shared/domain/webhook-endpoints.ts';

// The edges of the integrator-webhook rules (webhook-rules.test.ts covers the main flow): what counts as a
// success, the exact job after each outcome, the jitter bounds, the wording of a failure.

const NOW = new Date('2026-11-21T10:00:00.000Z');
const AT = NOW.toISOString();

const job = (overrides: Partial<DeliveryJob> = {}): DeliveryJob => ({
  siteId: 'site-1',
  endpointId: 'main',
  eventId: 'evt_1',
  eventType: 'access.revoked',
  payload: '{"id":"evt_1"}',
  status: 'pending',
  attempts: 2,
  nextAttemptAt: AT,
  queuedAttempt: 3,
  leaseUntil: '2026-11-21T10:01:00.000Z',
  lastError: 'HTTP 500',
  gaveUp: false,
  announced: false,
  createdAt: '2026-11-20T09:00:00.000Z',
  updatedAt: '2026-11-21T09:00:00.000Z',
  ...overrides,
});

const endpoint = (overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  siteId: 'site-1',
  endpointId: 'main',
  url: 'https://hooks.example.com/in',
  eventTypes: null,
  enabled: true,
  disabledReason: null,
  disabledAt: null,
  secret: 'whsec_current',
  previousSecret: null,
  previousSecretExpiresAt: null,
  secretRotatedAt: null,
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-02T00:00:00.000Z',
  ...overrides,
});

describe('limits', () => {
  it('are the documented numbers', () => {
    expect(MAX_ENDPOINTS_PER_SITE).toBe(20);
    expect(DELIVERY_TIMEOUT_MS).toBe(10_000);
    expect(PREVIOUS_SECRET_GRACE_MS).toBe(86_400_000);
    expect(DELIVERY_RETENTION_DAYS).toBe(30);
    expect(MAX_ATTEMPTS).toBe(12);
    expect(RETRY_DELAYS_SECONDS).toHaveLength(11);
    expect(SITE_EVENT_TYPES).toEqual(['webhook_endpoint.disabled']);
    expect(WEBHOOK_EVENT_TYPES).toEqual([...HISTORY_TYPES, 'webhook_endpoint.disabled']);
  });
});

describe('what counts as a delivered event', () => {
  it('a 2xx without error, and nothing else', () => {
    const outcome = (responseCode: number | null, error: string | null = null) => ({
      responseCode,
      durationMs: 1,
      error,
    });
    expect(succeeded(outcome(200))).toBe(true);
    expect(succeeded(outcome(299))).toBe(true);
    expect(succeeded(outcome(199))).toBe(false);
    expect(succeeded(outcome(300))).toBe(false);
    expect(succeeded(outcome(null))).toBe(false);
    expect(succeeded(outcome(200, 'socket hang up'))).toBe(false);
  });
});

describe('the job after an attempt', () => {
  it('success: succeeded, no next attempt, no error, lease released', () => {
    const { job: after, exhausted } = afterAttempt(
      job(),
      3,
      { responseCode: 200, durationMs: 5, error: null },
      NOW,
      () => 0,
    );
    expect(after).toEqual(
      job({ status: 'succeeded', attempts: 3, nextAttemptAt: null, leaseUntil: null, lastError: null, updatedAt: AT }),
    );
    expect(exhausted).toBe(false);
  });

  it('failure: pending, the wait after this attempt, the reason, lease released', () => {
    const { job: after, exhausted } = afterAttempt(
      job(),
      3,
      { responseCode: null, durationMs: 10_000, error: 'timed out after 10000 ms' },
      NOW,
      () => 0,
    );
    expect(after).toEqual(
      job({
        status: 'pending',
        attempts: 3,
        nextAttemptAt: '2026-11-21T10:10:00.000Z',
        leaseUntil: null,
        lastError: 'timed out after 10000 ms',
        updatedAt: AT,
      }),
    );
    expect(exhausted).toBe(false);
  });

  it('the last failure: failed, gave up, nothing next', () => {
    const { job: after, exhausted } = afterAttempt(
      job(),
      12,
      { responseCode: 410, durationMs: 3, error: null },
      NOW,
      () => 0,
    );
    expect(after).toEqual(
      job({
        status: 'failed',
        attempts: 12,
        nextAttemptAt: null,
        leaseUntil: null,
        lastError: 'HTTP 410',
        gaveUp: true,
        updatedAt: AT,
      }),
    );
    expect(exhausted).toBe(true);
  });

  it('an attempt not made (endpoint gone): failed with the reason, not given up', () => {
    const after = canceledAttempt(job(), 3, { responseCode: null, durationMs: 0, error: 'endpoint deleted' }, NOW);
    expect(after).toEqual(
      job({
        status: 'failed',
        attempts: 3,
        nextAttemptAt: null,
        leaseUntil: null,
        lastError: 'endpoint deleted',
        updatedAt: AT,
      }),
    );
  });
});

describe('retry waits', () => {
  it('no wait before the first attempt or after the last', () => {
    expect(retryDelaySeconds(0, () => 0)).toBeNull();
    expect(retryDelaySeconds(12, () => 0)).toBeNull();
    expect(retryDelaySeconds(11, () => 0)).toBe(21_600);
  });

  it('jitter outside [0, 1] is clamped: never shorter, never more than 20 % longer', () => {
    expect(retryDelaySeconds(2, () => -5)).toBe(120);
    expect(retryDelaySeconds(2, () => 7)).toBe(144);
    expect(retryDelaySeconds(1, () => 0.25)).toBe(32);
  });

  it('every wait lies between the base and 1.2 × the base, rounded (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 11 }), fc.double({ min: -1, max: 2, noNaN: true }), (attempt, dice) => {
        const base = RETRY_DELAYS_SECONDS[attempt - 1]!;
        const delay = retryDelaySeconds(attempt, () => dice)!;
        expect(delay).toBe(Math.round(base * (1 + 0.2 * Math.min(Math.max(dice, 0), 1))));
        expect(delay).toBeGreaterThanOrEqual(base);
        expect(delay).toBeLessThanOrEqual(Math.round(base * 1.2));
      }),
    );
  });
});

describe('how a failure reads', () => {
  it('the error when there is one, else the HTTP status, else "no response"', () => {
    expect(describeFailure({ responseCode: 500, durationMs: 1, error: 'connection refused' })).toBe(
      'connection refused',
    );
    expect(describeFailure({ responseCode: 500, durationMs: 1, error: null })).toBe('HTTP 500');
    expect(describeFailure({ responseCode: null, durationMs: 1, error: null })).toBe('HTTP no response');
  });

  it('why an endpoint was disabled names the event, the attempts, since when, and the last error', () => {
    expect(exhaustedReason(job({ attempts: 12, lastError: 'HTTP 503' }))).toBe(
      'event evt_1 (access.revoked) could not be delivered in 12 attempts since 2026-11-20T09:00:00.000Z; last: HTTP 503',
    );
    expect(exhaustedReason(job({ lastError: null }))).toMatch(/; last: unknown error$/);
  });

  it('the disabled event’s id is the same on every retry, and differs per endpoint and cause', () => {
    const digest = createHash('sha256').update('site-1/webhook_endpoint.disabled/main/evt_1').digest('hex');
    expect(disabledEventId('site-1', 'main', 'evt_1')).toBe(`evt_${digest.slice(0, 32)}`);
    expect(disabledEventId('site-1', 'other', 'evt_1')).not.toBe(disabledEventId('site-1', 'main', 'evt_1'));
  });
});

describe('endpoints', () => {
  it('the view shows no secret', () => {
    const rotated = endpoint({
      previousSecret: 'whsec_old',
      previousSecretExpiresAt: '2026-11-22T00:00:00.000Z',
      secretRotatedAt: '2026-11-21T00:00:00.000Z',
      enabled: false,
      disabledReason: 'r',
      disabledAt: '2026-11-20T00:00:00.000Z',
      eventTypes: ['refund.created'],
    });
    expect(endpointView(rotated)).toEqual({
      siteId: 'site-1',
      endpointId: 'main',
      url: 'https://hooks.example.com/in',
      eventTypes: ['refund.created'],
      enabled: false,
      disabledReason: 'r',
      disabledAt: '2026-11-20T00:00:00.000Z',
      secretRotatedAt: '2026-11-21T00:00:00.000Z',
      createdAt: '2026-11-01T00:00:00.000Z',
      updatedAt: '2026-11-02T00:00:00.000Z',
    });
  });

  it('the previous secret signs only while it has both a value and a future expiry', () => {
    const later = '2026-11-21T10:00:00.001Z';
    expect(signingSecrets(endpoint({ previousSecret: 'whsec_old', previousSecretExpiresAt: later }), NOW)).toEqual([
      'whsec_current',
      'whsec_old',
    ]);
    expect(signingSecrets(endpoint({ previousSecret: 'whsec_old', previousSecretExpiresAt: AT }), NOW)).toEqual([
      'whsec_current',
    ]);
    expect(signingSecrets(endpoint({ previousSecret: 'whsec_old', previousSecretExpiresAt: null }), NOW)).toEqual([
      'whsec_current',
    ]);
    expect(signingSecrets(endpoint({ previousSecret: null, previousSecretExpiresAt: later }), NOW)).toEqual([
      'whsec_current',
    ]);
  });
});
