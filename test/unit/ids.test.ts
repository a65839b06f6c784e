import { describe, expect, it } from '@jest/globals';
import { ID_RULE, id, isId, linkedPurchaseId, PROCESSOR_ID_RULE, processorId } from '../../shared/domain/ids.ts';

describe('the id rule (key parts that cannot forge a key)', () => {
  it('accepts 1–128 letters, digits and . _ : -; refuses #, spaces, empty and 129 characters', () => {
    for (const good of ['a', 'site-1', 'Course_2.v3:x', 'x'.repeat(128)]) {
      expect([good, isId(good), id.safeParse(good).success]).toEqual([good, true, true]);
    }
    for (const bad of ['', 'bad id', 'a#b', 'x'.repeat(129), 'é', 'a/b']) {
      expect([bad, isId(bad)]).toEqual([bad, false]);
      expect(id.safeParse(bad).error?.issues[0]?.message).toBe(ID_RULE);
    }
    expect(isId(42)).toBe(false);
    expect(isId(null)).toBe(false);
  });

  it('processor ids: 1–255 characters, no control characters, anything else the processor chooses', () => {
    expect(processorId.safeParse('sub_1Nq#weird id/ü').success).toBe(true);
    expect(processorId.safeParse('x'.repeat(255)).success).toBe(true);
    for (const bad of ['', 'x'.repeat(256), 'evt\n1', 'evt\u00851']) {
      expect(processorId.safeParse(bad).error?.issues[0]?.message).toBe(PROCESSOR_ID_RULE);
    }
  });
});

describe('linkedPurchaseId (a webhook reads its purchase with one GetItem)', () => {
  it('is derived from the subscription, stable, and of the id rule', () => {
    const first = linkedPurchaseId('stripe', 'sub_123');
    expect(first).toBe(linkedPurchaseId('stripe', 'sub_123'));
    expect(first).toMatch(/^pur_st[0-9a-f]{26}$/);
    expect(isId(first)).toBe(true);
    expect(linkedPurchaseId('stripe', 'sub_124')).not.toBe(first);
  });

  it('stripe and native share one id space; paypal has its own', () => {
    expect(linkedPurchaseId('native', 'sub_123')).toBe(linkedPurchaseId('stripe', 'sub_123'));
    const paypal = linkedPurchaseId('paypal', 'sub_123');
    expect(paypal).toMatch(/^pur_pp[0-9a-f]{26}$/);
    expect(paypal.slice(6)).not.toBe(linkedPurchaseId('stripe', 'sub_123').slice(6));
  });
});
