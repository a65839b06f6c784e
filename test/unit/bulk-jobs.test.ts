import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { SqsJobQueue } from '../../shared/adapters/sqs-job-queue.ts';
import {
  assertMayStartJob,
  bulkFingerprint,
  grantsToRestore,
  grantsToRevoke,
  initialPages,
  isFinished,
  type JobMarker,
  MAX_CUSTOMER_IDS,
  MAX_LISTED_FAILURES,
  tallyPage,
  validateBulkRequest,
} from '../../shared/domain/bulk-jobs.ts';
import { ForbiddenError, InvalidInputError } from '../../shared/domain/errors.ts';
import { revokeAccess } from '../../shared/domain/grants.ts';
import type { Purchase } from '../../shared/domain/types.ts';
import { parseJobMessage } from '../../shared/ports/bulk-jobs.ts';
import { thrownBy } from './fixtures.ts';

const ADMIN = { type: 'admin', email: 'owner@example.com' } as const;
const NOW = new Date('2026-03-01T10:00:00.000Z');

function purchase(): Purchase {
  return {
    purchaseId: 'pur-1',
    siteId: 'site-1',
    customerId: 'cus-1',
    offerId: 'bundle',
    processor: 'none',
    processorSubscriptionId: null,
    kind: 'one_time',
    price: { type: 'one_time', amount: 100, currency: 'usd' },
    status: 'active',
    currentPeriodStart: null,
    currentPeriodEnd: null,
    installments: null,
    cancellation: null,
    pause: null,
    accessPeriodEndsAt: null,
    accessEndsAt: null,
    products: ['course', 'community'].map((productId) => ({
      productId,
      access: 'active' as const,
      revokedAt: null,
      revokedBy: null,
      label: null,
    })),
    refunds: [],
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    version: 1,
  };
}

function fieldsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.details.map((d) => d.field);
    throw error;
  }
  throw new Error('no error');
}

describe('bulk revocation request (selection validation)', () => {
  it('takes an offer, or a customer list with repeats collapsed', () => {
    expect(validateBulkRequest({ offerId: 'o' })).toEqual({ type: 'offer', offerId: 'o', productIds: null });
    expect(validateBulkRequest({ customerIds: ['a', 'b', 'a'], productIds: ['p', 'p'] })).toEqual({
      type: 'customers',
      customerIds: ['a', 'b'],
      productIds: ['p'],
    });
  });

  it('refuses both selections, naming each, and neither, naming offerId', () => {
    expect(fieldsOf(() => validateBulkRequest({ offerId: 'o', customerIds: ['a'] }))).toEqual([
      'offerId',
      'customerIds',
    ]);
    expect(fieldsOf(() => validateBulkRequest({}))).toEqual(['offerId']);
    expect((thrownBy(() => validateBulkRequest({ offerId: 'o', customerIds: ['a'] })) as Error).message).toBe(
      'send either offerId or customerIds, not both',
    );
  });

  it(`accepts ${MAX_CUSTOMER_IDS} customer ids and refuses one more, naming customerIds`, () => {
    const ids = Array.from({ length: MAX_CUSTOMER_IDS + 1 }, (_, i) => `c${i}`);
    expect(validateBulkRequest({ customerIds: ids.slice(0, MAX_CUSTOMER_IDS) }).type).toBe('customers');
    expect(fieldsOf(() => validateBulkRequest({ customerIds: ids }))).toEqual(['customerIds']);
  });

  it('refuses an empty customer list and an empty product list', () => {
    expect(fieldsOf(() => validateBulkRequest({ customerIds: [] }))).toEqual(['customerIds']);
    expect(fieldsOf(() => validateBulkRequest({ offerId: 'o', productIds: [] }))).toEqual(['productIds']);
  });

  it('lets admins and support start jobs, not automation or customers', () => {
    expect(() => assertMayStartJob(ADMIN)).not.toThrow();
    expect(() => assertMayStartJob({ type: 'support', email: null })).not.toThrow();
    expect(() => assertMayStartJob({ type: 'automation', id: 'rule' })).toThrow(ForbiddenError);
    expect(() => assertMayStartJob({ type: 'customer', customerId: 'c' })).toThrow(ForbiddenError);
  });

  it('fingerprints a request independently of the order of its ids, and tells other requests apart', () => {
    const a = bulkFingerprint('revoke', { type: 'customers', customerIds: ['a', 'b'], productIds: null });
    const b = bulkFingerprint('revoke', { type: 'customers', customerIds: ['b', 'a'], productIds: null });
    const c = bulkFingerprint('revoke', { type: 'customers', customerIds: ['a'], productIds: null });
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(bulkFingerprint('undo', { undoOf: 'j' })).not.toBe(bulkFingerprint('undo', { undoOf: 'k' }));
  });

  it('splits a customer list into pages of 100, all known at once', () => {
    const ids = Array.from({ length: 250 }, (_, i) => `c${i}`);
    const pages = initialPages('s', 'j', { type: 'customers', customerIds: ids, productIds: null });
    expect(pages.map((p) => (p.source.type === 'customers' ? p.source.customerIds.length : -1))).toEqual([
      100, 100, 50,
    ]);
    expect(initialPages('s', 'j', { type: 'offer', offerId: 'o', productIds: null })).toHaveLength(1);
  });
});

describe('which grants a job touches', () => {
  it('revokes the requested products the purchase holds, or all of them', () => {
    expect(grantsToRevoke(purchase(), null)).toEqual(['course', 'community']);
    expect(grantsToRevoke(purchase(), ['community', 'not-held'])).toEqual(['community']);
    expect(grantsToRevoke(purchase(), ['not-held'])).toEqual([]);
  });

  it("an undo restores only grants whose latest change is still that job's revocation", () => {
    const revoked = revokeAccess(purchase(), undefined, ADMIN, NOW, { jobId: 'job-1' })!.purchase;
    expect(grantsToRestore(revoked, 'job-1')).toEqual(['course', 'community']);
    expect(grantsToRestore(revoked, 'job-2')).toEqual([]);
    // Resumed and revoked again by someone else since: the later revocation is not the job's.
    const [course, community] = revoked.products;
    const later: Purchase = {
      ...revoked,
      products: [course!, { ...community!, revokedByJob: null, revokedAt: '2026-03-02T00:00:00.000Z' }],
    };
    expect(grantsToRestore(later, 'job-1')).toEqual(['course']);
    expect(grantsToRestore(purchase(), 'job-1')).toEqual([]);
  });

  it("a job's revocation carries the requester's label and the job id in its history entry", () => {
    const change = revokeAccess(purchase(), ['course'], ADMIN, NOW, { jobId: 'job-1' })!;
    expect(change.history[0]).toMatchObject({
      label: 'Revoked by owner@example.com',
      details: { productIds: ['course'], jobId: 'job-1' },
    });
    expect(change.purchase.products[0]).toMatchObject({ access: 'revoked', revokedByJob: 'job-1' });
  });
});

describe('counting', () => {
  const marker = (purchaseId: string, outcome: JobMarker['outcome']): JobMarker => ({
    siteId: 's',
    jobId: 'j',
    purchaseId,
    outcome,
    productIds: [],
    reason: outcome === 'failed' ? 'gone' : null,
    at: NOW.toISOString(),
  });

  it('tallies a page: every purchase once, by outcome, failures listed with their reason', () => {
    expect(tallyPage([marker('a', 'done'), marker('b', 'skipped'), marker('c', 'failed')], 0)).toEqual({
      total: 3,
      done: 1,
      skipped: 1,
      failed: 1,
      failures: [{ purchaseId: 'c', reason: 'gone' }],
    });
  });

  it(`lists at most ${MAX_LISTED_FAILURES} failures on the job but counts them all`, () => {
    const tally = tallyPage([marker('a', 'failed'), marker('b', 'failed')], MAX_LISTED_FAILURES - 1);
    expect(tally.failed).toBe(2);
    expect(tally.failures).toHaveLength(1);
  });

  it('is finished only once the last page is known and every page is counted', () => {
    expect(isFinished({ pageCount: null, pagesCounted: 3 })).toBe(false);
    expect(isFinished({ pageCount: 4, pagesCounted: 3 })).toBe(false);
    expect(isFinished({ pageCount: 4, pagesCounted: 4 })).toBe(true);
  });
});

describe('job queue messages', () => {
  it('SqsJobQueue sends the page message as the body, to its one queue', async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs';
    await new SqsJobQueue(new SQSClient({ region: 'eu-west-1' }), url).send({ siteId: 's', jobId: 'j', page: 3 });
    const calls = sqs.commandCalls(SendMessageCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.QueueUrl).toBe(url);
    expect(parseJobMessage(calls[0]!.args[0].input.MessageBody!)).toEqual({ siteId: 's', jobId: 'j', page: 3 });
    sqs.restore();
  });

  it('refuses a body that is not a page message', () => {
    expect(() => parseJobMessage('{"siteId":"s","jobId":"j"}')).toThrow('not a bulk job message');
  });
});
