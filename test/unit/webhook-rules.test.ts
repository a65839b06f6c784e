import { describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import {
  type AttemptOutcome,
  afterAttempt,
  type DeliveryJob,
  MAX_ATTEMPTS,
  newSigningSecret,
  RETRY_DELAYS_SECONDS,
  retryDelaySeconds,
  signingSecrets,
  type WebhookEndpoint,
  wantsEvent,
} from '../../shared/domain/webhook-endpoints.ts';
import { signatureHeaders } from '../../shared/usecases/webhook-delivery.ts';

const NOW = new Date('2026-11-21T10:00:00.000Z');
const HOUR = 3_600;

const job = (overrides: Partial<DeliveryJob> = {}): DeliveryJob => ({
  siteId: 'site-1',
  endpointId: 'main',
  eventId: 'evt_1',
  eventType: 'access.revoked',
  payload: '{"id":"evt_1"}',
  status: 'pending',
  attempts: 0,
  nextAttemptAt: NOW.toISOString(),
  queuedAttempt: 1,
  leaseUntil: '2026-11-21T10:01:00.000Z',
  lastError: null,
  gaveUp: false,
  announced: false,
  createdAt: NOW.toISOString(),
  updatedAt: NOW.toISOString(),
  ...overrides,
});

const endpoint = (overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  siteId: 'site-1',
  endpointId: 'main',
  url: 'https://hooks.example.com/',
  eventTypes: null,
  enabled: true,
  disabledReason: null,
  disabledAt: null,
  secret: newSigningSecret(() => new Uint8Array(32).fill(7)),
  previousSecret: null,
  previousSecretExpiresAt: null,
  secretRotatedAt: null,
  createdAt: NOW.toISOString(),
  updatedAt: NOW.toISOString(),
  ...overrides,
});

const failure: AttemptOutcome = { responseCode: 503, durationMs: 12, error: null };

describe('the retry schedule', () => {
  it('waits 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, then 6 h (the cap), without jitter', () => {
    const delays = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => retryDelaySeconds(i + 1, () => 0));

    expect(delays).toEqual([30, 120, 600, 1_800, HOUR, 2 * HOUR, 4 * HOUR, 6 * HOUR, 6 * HOUR, 6 * HOUR, 6 * HOUR]);
    expect(MAX_ATTEMPTS).toBeGreaterThanOrEqual(12);
  });

  it('retries for more than 24 h before giving up, whatever the jitter', () => {
    const total = (dice: number) =>
      Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => retryDelaySeconds(i + 1, () => dice)!).reduce((a, b) => a + b);

    expect(total(0)).toBeGreaterThanOrEqual(24 * HOUR);
    expect(total(1)).toBeLessThanOrEqual(1.2 * RETRY_DELAYS_SECONDS.reduce((a: number, b: number) => a + b, 0));
  });

  it('jitter only lengthens a wait, by at most 20 %', () => {
    expect(retryDelaySeconds(1, () => 0)).toBe(30);
    expect(retryDelaySeconds(1, () => 0.5)).toBe(33);
    expect(retryDelaySeconds(1, () => 1)).toBe(36);
  });

  it('has no wait after the last attempt', () => {
    expect(retryDelaySeconds(MAX_ATTEMPTS, () => 0)).toBeNull();
  });
});

describe('afterAttempt', () => {
  it('a 2xx finishes the job', () => {
    const { job: after, exhausted } = afterAttempt(
      job(),
      1,
      { responseCode: 204, durationMs: 5, error: null },
      NOW,
      () => 0,
    );

    expect(after).toMatchObject({ status: 'succeeded', attempts: 1, nextAttemptAt: null, leaseUntil: null });
    expect(exhausted).toBe(false);
  });

  it('a failure schedules the next attempt and remembers why', () => {
    const { job: after } = afterAttempt(job(), 1, failure, NOW, () => 0);

    expect(after).toMatchObject({
      status: 'pending',
      attempts: 1,
      nextAttemptAt: '2026-11-21T10:00:30.000Z',
      lastError: 'HTTP 503',
    });
  });

  it.each([301, 404, 500])('HTTP %d is a failure (redirects are not followed)', (responseCode) => {
    expect(afterAttempt(job(), 1, { responseCode, durationMs: 1, error: null }, NOW, () => 0).job.status).toBe(
      'pending',
    );
  });

  it('the last failed attempt gives up', () => {
    const { job: after, exhausted } = afterAttempt(
      job({ attempts: MAX_ATTEMPTS - 1 }),
      MAX_ATTEMPTS,
      failure,
      NOW,
      () => 0,
    );

    expect(after).toMatchObject({ status: 'failed', gaveUp: true, nextAttemptAt: null });
    expect(exhausted).toBe(true);
  });
});

describe('wantsEvent', () => {
  it('an endpoint without eventTypes takes every event; with them, only those', () => {
    expect(wantsEvent(endpoint(), 'refund.created')).toBe(true);
    expect(wantsEvent(endpoint({ eventTypes: ['access.revoked'] }), 'access.revoked')).toBe(true);
    expect(wantsEvent(endpoint({ eventTypes: ['access.revoked'] }), 'access.resumed')).toBe(false);
  });

  it('a disabled endpoint takes nothing', () => {
    expect(wantsEvent(endpoint({ enabled: false }), 'access.revoked')).toBe(false);
  });
});

describe('signing', () => {
  it('a secret is whsec_ and the base64 of 32 random bytes', () => {
    const secret = newSigningSecret((size) => new Uint8Array(size).fill(1));

    expect(secret).toMatch(/^whsec_/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
  });

  it('the Standard Webhooks headers verify with the standardwebhooks package', () => {
    const secret = endpoint().secret;
    const payload = JSON.stringify({ id: 'evt_1', type: 'access.revoked' });

    const headers = signatureHeaders('evt_1', payload, [secret], new Date());

    expect(headers['webhook-id']).toBe('evt_1');
    expect(new Webhook(secret).verify(payload, headers)).toEqual({ id: 'evt_1', type: 'access.revoked' });
    expect(() => new Webhook(secret).verify(`${payload} `, headers)).toThrow();
  });

  it('during a rotation, both the new and the previous secret sign, and each verifies', () => {
    const previous = newSigningSecret((size) => new Uint8Array(size).fill(2));
    const rotated = endpoint({ previousSecret: previous, previousSecretExpiresAt: '2026-11-22T10:00:00.000Z' });
    const secrets = signingSecrets(rotated, NOW);
    const payload = '{"id":"evt_2"}';

    const headers = signatureHeaders('evt_2', payload, secrets, new Date());

    expect(secrets).toEqual([rotated.secret, previous]);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(rotated.secret).verify(payload, headers)).toEqual({ id: 'evt_2' });
    expect(new Webhook(previous).verify(payload, headers)).toEqual({ id: 'evt_2' });
  });

  it('after the grace period only the new secret signs', () => {
    const rotated = endpoint({ previousSecret: 'whsec_AAAA', previousSecretExpiresAt: NOW.toISOString() });

    expect(signingSecrets(rotated, NOW)).toEqual([rotated.secret]);
  });
});
