import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  CancelAtProcessorError,
  ConcurrentModificationError,
  ConflictError,
  CustomerNotFoundError,
  DomainError,
  DuplicateProcessorEventError,
  IdempotencyKeyReusedError,
  InvalidInputError,
  NotFoundError,
  PurchaseNotFoundError,
  UnprocessableError,
} from '../../shared/domain/errors.ts';
import { domainEventSchema, SITE_EVENT_CATALOG, siteEventJsonSchemas } from '../../shared/domain/event-catalog.ts';
import { eventId, type RecordedEntry, sequenceChange, toEvent } from '../../shared/domain/events.ts';
import { grantOffer, resumeAccess, selectGrants } from '../../shared/domain/grants.ts';
import { fingerprintOf, IDEMPOTENCY_RETENTION_DAYS } from '../../shared/domain/idempotency.ts';
import { ID_PATTERN, isId, PROCESSOR_ID_MAX, processorId } from '../../shared/domain/ids.ts';
import type { HistoryEntry, Purchase } from '../../shared/domain/types.ts';
import { purchaseView } from '../../shared/domain/views.ts';
import { forbiddenAddress, urlShape } from '../../shared/domain/webhook-url.ts';
import { ADMIN, activeGrant, anOffer, aPurchase, NOW, revokedGrant, thrownBy } from './fixtures.ts';

// The domain's records and their small rules: events and their numbering, the purchase view, idempotency
// fingerprints, ids, named errors, and the SSRF guard's address rules.

const AT = NOW.toISOString();

describe('rule 10: an offer’s access period is fixed at purchase', () => {
  const grant = (accessDays: number | null) =>
    grantOffer({
      purchaseId: 'p-1',
      customer: { siteId: 'site-1', customerId: 'c-1' },
      offer: anOffer({ accessDays }),
      processor: 'none',
      processorSubscriptionId: null,
      currentPeriodEnd: null,
      actor: ADMIN,
      now: NOW,
    });

  it('a lifetime offer has no access period and no access end', () => {
    const { purchase, history } = grant(null);
    expect(purchase.accessPeriodEndsAt).toBeNull();
    expect(purchase.accessEndsAt).toBeNull();
    expect(history[0]?.details.accessEndsAt).toBeNull();
  });

  it('an accessDays offer ends its access period that many days after purchase', () => {
    const { purchase, history } = grant(30);
    expect(purchase.accessPeriodEndsAt).toBe('2026-03-31T10:00:00.000Z');
    expect(purchase.accessEndsAt).toBe('2026-03-31T10:00:00.000Z');
    expect(history[0]?.details.accessEndsAt).toBe('2026-03-31T10:00:00.000Z');
  });

  it('accessDays 0 ends access at the purchase instant (an access period, not a lifetime)', () => {
    expect(grant(0).purchase.accessPeriodEndsAt).toBe(AT);
  });

  it('a processor purchase without a known period end has none yet; membergate’s own runs one cycle', () => {
    const base = {
      purchaseId: 'p-1',
      customer: { siteId: 'site-1', customerId: 'c-1' },
      offer: anOffer(),
      processorSubscriptionId: 'sub_1',
      currentPeriodEnd: null,
      actor: ADMIN,
      now: NOW,
    };
    expect(grantOffer({ ...base, processor: 'stripe' }).purchase.currentPeriodEnd).toBeNull();
    expect(grantOffer({ ...base, processor: 'none' }).purchase.currentPeriodEnd).toBe('2026-04-01T10:00:00.000Z');
  });
});

describe('domain events', () => {
  const entry = (type: HistoryEntry['type'], label?: string): HistoryEntry => ({
    at: AT,
    type,
    actor: ADMIN,
    details: { productIds: ['course'] },
    ...(label === undefined ? {} : { label }),
  });

  it('an event id is evt_ and the first 32 hex digits of sha256("site/purchase/sequence")', () => {
    const digest = createHash('sha256').update('site-1/purchase-1/7').digest('hex');
    expect(eventId('site-1', 'purchase-1', 7)).toBe(`evt_${digest.slice(0, 32)}`);
    expect(eventId('site-1', 'purchase-1', 7)).toMatch(/^evt_[0-9a-f]{32}$/);
  });

  it('numbers a change’s entries after the purchase’s last event, without gaps', () => {
    const purchase = aPurchase({ eventSequence: 4 });
    const { purchase: numbered, entries } = sequenceChange({
      purchase,
      history: [entry('access.revoked', 'Revoked by owner@example.com'), entry('access.resumed')],
    });
    expect(numbered).toEqual({ ...purchase, eventSequence: 6 });
    expect(entries).toEqual([
      {
        ...entry('access.revoked', 'Revoked by owner@example.com'),
        sequence: 5,
        eventId: eventId('site-1', 'purchase-1', 5),
      },
      { ...entry('access.resumed'), sequence: 6, eventId: eventId('site-1', 'purchase-1', 6) },
    ]);
  });

  it('a purchase that never had an event starts at 1; a change without entries keeps the count', () => {
    const first = sequenceChange({ purchase: aPurchase(), history: [entry('access.revoked')] });
    expect(first.entries.map((e) => e.sequence)).toEqual([1]);
    expect(first.purchase.eventSequence).toBe(1);
    expect(sequenceChange({ purchase: aPurchase({ eventSequence: 3 }), history: [] }).purchase.eventSequence).toBe(3);
  });

  it('the envelope carries the purchase view after the change, the details and the label', () => {
    const purchase = aPurchase({ eventSequence: 1 });
    const recorded: RecordedEntry = { ...entry('access.revoked', 'Revoked'), sequence: 1, eventId: 'evt_x' };
    expect(toEvent(purchase, recorded)).toEqual({
      id: 'evt_x',
      type: 'access.revoked',
      siteId: 'site-1',
      purchaseId: 'purchase-1',
      customerId: 'customer-1',
      sequence: 1,
      occurredAt: AT,
      actor: ADMIN,
      data: { purchase: purchaseView(purchase), details: { productIds: ['course'] }, label: 'Revoked' },
    });
  });

  it('an entry without a label has no label key in its envelope', () => {
    const event = toEvent(aPurchase(), { ...entry('access.resumed'), sequence: 2, eventId: 'evt_y' });
    expect(Object.keys(event.data)).toEqual(['purchase', 'details']);
  });

  it('a site event is described with its own schema', () => {
    const schema = siteEventJsonSchemas()['webhook_endpoint.disabled'] as { properties: { type: { const: string } } };
    expect(schema.properties.type.const).toBe('webhook_endpoint.disabled');
    const event = {
      id: 'evt_1',
      type: 'webhook_endpoint.disabled',
      siteId: 'site-1',
      occurredAt: AT,
      actor: { type: 'system', reason: 'webhook_deliveries_failed' },
      data: {
        endpoint: { endpointId: 'e', url: 'https://x.example', enabled: false, disabledReason: 'r', disabledAt: AT },
        causeEventId: 'evt_0',
      },
    };
    expect(SITE_EVENT_CATALOG['webhook_endpoint.disabled'].schema.safeParse(event).success).toBe(true);
    expect(domainEventSchema.safeParse(event).success).toBe(false);
  });
});

describe('the purchase view', () => {
  it('lists the purchase’s fields, the grants and the access-status row', () => {
    const products = [activeGrant('course'), revokedGrant('community', AT, ADMIN, 'Revoked by owner@example.com')];
    const purchase = aPurchase({ products, eventSequence: 9, paymentIds: ['succeeded:in_1'] });
    expect(purchaseView(purchase)).toEqual({
      purchaseId: 'purchase-1',
      siteId: 'site-1',
      customerId: 'customer-1',
      offerId: 'offer-1',
      processor: 'stripe',
      processorSubscriptionId: 'sub_123',
      processorAccount: null,
      kind: 'subscription',
      status: 'active',
      price: purchase.price,
      currentPeriodStart: '2026-02-15T00:00:00.000Z',
      currentPeriodEnd: '2026-03-15T00:00:00.000Z',
      installments: null,
      cancellation: null,
      pause: null,
      accessPeriodEndsAt: null,
      accessEndsAt: null,
      products,
      accessStatus: { status: 'Access revoked', label: 'Revoked by owner@example.com' },
      refunds: [],
      createdAt: '2026-02-15T00:00:00.000Z',
      updatedAt: '2026-02-15T00:00:00.000Z',
      version: 3,
    });
  });

  it('an old record without accessPeriodEndsAt shows null; a grant’s extra attributes are not shown', () => {
    const old = { ...aPurchase(), accessPeriodEndsAt: undefined } as unknown as Purchase;
    expect(purchaseView(old).accessPeriodEndsAt).toBeNull();
    const extra = aPurchase({ products: [{ ...activeGrant('course'), stray: 1 } as never] });
    expect(purchaseView(extra).products).toEqual([activeGrant('course')]);
    expect(purchaseView(aPurchase({ accessPeriodEndsAt: '2026-06-01T00:00:00.000Z' })).accessPeriodEndsAt).toBe(
      '2026-06-01T00:00:00.000Z',
    );
  });
});

describe('idempotency fingerprints', () => {
  it('is the parameters as JSON with keys sorted', () => {
    expect(fingerprintOf({ when: 'date', amount: 100, date: '2026-04-01' })).toBe(
      '{"amount":100,"date":"2026-04-01","when":"date"}',
    );
    expect(fingerprintOf({})).toBe('{}');
  });

  it('does not depend on the order of the keys, and differs when a value does (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.integer()), (parameters) => {
        const reversed = Object.fromEntries(Object.entries(parameters).reverse());
        expect(fingerprintOf(reversed)).toBe(fingerprintOf(parameters));
        expect(fingerprintOf({ ...parameters, __extra: 1 })).not.toBe(fingerprintOf(parameters));
      }),
    );
  });

  it('keys are kept a month', () => {
    expect(IDEMPOTENCY_RETENTION_DAYS).toBe(30);
  });
});

describe('ids', () => {
  it('membergate ids: 1–128 letters, digits, . _ : -', () => {
    for (const ok of ['a', 'site-1', 'A.b_c:d-9', 'x'.repeat(128)]) expect(isId(ok)).toBe(true);
    for (const bad of ['', 'a#b', 'a b', 'x'.repeat(129), 'SITE#1', 'é']) expect(isId(bad)).toBe(false);
    for (const notString of [123, null, undefined, ['a'], { toString: () => 'a' }]) expect(isId(notString)).toBe(false);
    expect(ID_PATTERN.test('a/b')).toBe(false);
  });

  it('processor ids: 1–255 characters without control characters', () => {
    expect(processorId.safeParse('sub_1MowQVLkdIwHu7ix').success).toBe(true);
    expect(processorId.safeParse('I-BW452GLLEP1G#x y').success).toBe(true);
    expect(processorId.safeParse('x'.repeat(PROCESSOR_ID_MAX)).success).toBe(true);
    for (const bad of ['', 'x'.repeat(256), 'a\nb', 'a\u0000', 'a\u007f', 'a\u009f']) {
      const result = processorId.safeParse(bad);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toBe('must be 1–255 characters without control characters');
    }
  });
});

describe('named domain errors', () => {
  it('each error is named after its class and carries its field problems', () => {
    const error = new InvalidInputError('bad', [{ field: 'date', message: 'must be in the future' }]);
    expect(error.name).toBe('InvalidInputError');
    expect(error.message).toBe('bad');
    expect(error.details).toEqual([{ field: 'date', message: 'must be in the future' }]);
    expect(error).toBeInstanceOf(DomainError);
    expect(new ConflictError('x').details).toEqual([]);
    expect(new ConflictError('x').name).toBe('ConflictError');
  });

  it('the errors with fixed messages say what happened', () => {
    const notFound = new PurchaseNotFoundError('p-9');
    expect([notFound.name, notFound.message]).toEqual(['PurchaseNotFoundError', 'purchase p-9 not found']);
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(new CustomerNotFoundError('c-9').message).toBe('customer c-9 not found');
    const concurrent = new ConcurrentModificationError('purchase p-1');
    expect(concurrent.message).toBe('purchase p-1 was changed by another request; retry');
    expect(concurrent).toBeInstanceOf(ConflictError);
    const reused = new IdempotencyKeyReusedError('k-1');
    expect(reused.message).toBe(
      'Idempotency-Key "k-1" was already used with other parameters; use a new key for a new request',
    );
    expect(reused.details).toEqual([{ field: 'Idempotency-Key', message: 'already used with other parameters' }]);
    expect(reused).toBeInstanceOf(UnprocessableError);
    const paypal = new CancelAtProcessorError('https://www.paypal.example/myaccount');
    expect(paypal.redirectUrl).toBe('https://www.paypal.example/myaccount');
    expect(paypal.message).toBe('PayPal subscriptions are canceled in PayPal: follow redirectUrl');
    expect(paypal.name).toBe('CancelAtProcessorError');
    const duplicate = new DuplicateProcessorEventError('evt_1');
    expect([duplicate.name, duplicate.message, duplicate.eventId]).toEqual([
      'DuplicateProcessorEventError',
      'processor event evt_1 was already processed',
      'evt_1',
    ]);
  });
});

describe('the SSRF guard: which addresses a delivery may connect to', () => {
  it('public unicast addresses pass', () => {
    expect(forbiddenAddress('8.8.8.8')).toBeNull();
    expect(forbiddenAddress('2606:4700::1')).toBeNull();
  });

  it('every special range is refused with its name', () => {
    expect(forbiddenAddress('0.0.0.0')).toBe('0.0.0.0 is an unspecified address');
    expect(forbiddenAddress('255.255.255.255')).toBe('255.255.255.255 is the broadcast address');
    expect(forbiddenAddress('224.0.0.1')).toBe('224.0.0.1 is a multicast address');
    expect(forbiddenAddress('169.254.1.1')).toBe('169.254.1.1 is a link-local address');
    expect(forbiddenAddress('100.64.0.1')).toBe('100.64.0.1 is a carrier-grade NAT (100.64.0.0/10) address');
    expect(forbiddenAddress('10.0.0.1')).toBe('10.0.0.1 is a private address');
    expect(forbiddenAddress('fc00::1')).toBe('fc00::1 is a unique-local address');
    expect(forbiddenAddress('192.0.2.1')).toBe('192.0.2.1 is a reserved address');
    expect(forbiddenAddress('fec0::1')).toBe('fec0::1 is a site-local address');
    expect(forbiddenAddress('2002::1')).toBe('2002::1 is a special-purpose address (6to4)');
    expect(forbiddenAddress('64:ff9b::1')).toBe('64:ff9b::1 is a special-purpose address (rfc6052)');
  });

  it('cloud metadata addresses are named as such, also inside an IPv4-mapped IPv6 address', () => {
    for (const address of ['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '168.63.129.16', '100.100.100.200']) {
      expect(forbiddenAddress(address)).toBe(`${address} is a cloud metadata address`);
    }
    expect(forbiddenAddress('::ffff:169.254.169.254')).toBe('169.254.169.254 is a cloud metadata address');
    expect(forbiddenAddress('::ffff:10.0.0.1')).toBe('10.0.0.1 is a private address');
    expect(forbiddenAddress('::ffff:8.8.8.8')).toBeNull();
  });

  it('loopback only when allowed, and allowing it lets nothing else through', () => {
    expect(forbiddenAddress('127.0.0.1')).toBe('127.0.0.1 is a loopback address');
    expect(forbiddenAddress('::1')).toBe('::1 is a loopback address');
    expect(forbiddenAddress('127.0.0.1', { allowLoopback: true })).toBeNull();
    expect(forbiddenAddress('::1', { allowLoopback: true })).toBeNull();
    expect(forbiddenAddress('10.0.0.1', { allowLoopback: true })).toBe('10.0.0.1 is a private address');
    expect(forbiddenAddress('127.0.0.1', { allowLoopback: false })).toBe('127.0.0.1 is a loopback address');
  });

  it('what is not an address is refused', () => {
    expect(forbiddenAddress('example.com')).toBe('example.com is not an IP address');
  });

  it('a bracketed IPv6 host is handed to the resolver bare', () => {
    expect(urlShape('https://[2606:4700::1]/hooks', { allowLocalHttp: false })).toMatchObject({
      ok: true,
      host: '2606:4700::1',
      local: false,
    });
    expect(urlShape('http://[::1]:3000/hooks', { allowLocalHttp: true })).toMatchObject({
      ok: true,
      host: '::1',
      local: true,
    });
  });

  it('what is not an absolute URL is refused with an example', () => {
    expect(urlShape('/webhooks', { allowLocalHttp: false })).toEqual({
      ok: false,
      problem: 'must be an absolute URL such as https://example.com/webhooks',
    });
  });

  it('the local runtime’s own wording for a scheme it refuses', () => {
    expect(urlShape('ftp://example.com', { allowLocalHttp: true })).toEqual({
      ok: false,
      problem: 'must use https (or http to localhost / 127.0.0.1, on the local runtime only)',
    });
    expect(urlShape('ftp://example.com', { allowLocalHttp: false })).toEqual({ ok: false, problem: 'must use https' });
    expect(urlShape('http://example.com', { allowLocalHttp: true })).toEqual({
      ok: false,
      problem: 'must use https (or http to localhost / 127.0.0.1, on the local runtime only)',
    });
    expect(urlShape('https://:secret@example.com', { allowLocalHttp: false })).toEqual({
      ok: false,
      problem: 'must not contain a user name or password',
    });
    expect(urlShape('https://example.com/hooks', { allowLocalHttp: true })).toMatchObject({
      ok: true,
      host: 'example.com',
      local: false,
    });
  });
});

describe('choosing grants', () => {
  it('every unknown product is named, by its index, in one 400', () => {
    const error = thrownBy(() => selectGrants(aPurchase(), ['nope', 'course', 'gone'])) as InvalidInputError;
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe('product nope is not part of this purchase; product gone is not part of this purchase');
    expect(error.details).toEqual([
      { field: 'productIds[0]', message: 'product nope is not part of this purchase' },
      { field: 'productIds[2]', message: 'product gone is not part of this purchase' },
    ]);
  });

  it('no list means every product; a list is deduplicated in its order', () => {
    expect(selectGrants(aPurchase(), undefined)).toEqual(['course', 'community']);
    expect(selectGrants(aPurchase(), ['community', 'course', 'community'])).toEqual(['community', 'course']);
    expect(selectGrants(aPurchase(), [])).toEqual([]);
  });

  it('resuming: the access.resumed entry lists what changed, and the grant is cleared', () => {
    const purchase = aPurchase({ products: [activeGrant('course'), revokedGrant('community', AT, ADMIN, 'x')] });
    const change = resumeAccess(purchase, undefined, ADMIN, NOW);
    expect(change?.purchase.products).toEqual([activeGrant('course'), activeGrant('community')]);
    expect(change?.history).toEqual([
      { at: AT, type: 'access.resumed', actor: ADMIN, details: { productIds: ['community'] } },
    ]);
    expect(change?.purchase.version).toBe(4);
    expect(change?.purchase.updatedAt).toBe(AT);
    expect(resumeAccess(aPurchase(), undefined, ADMIN, NOW)).toBeNull();
  });
});
