import { describe, expect, it } from '@jest/globals';
import { assertProductsIn, bulkFingerprint } from '../../shared/domain/bulk-jobs.ts';
import { InvalidInputError } from '../../shared/domain/errors.ts';

describe('a bulk job’s products must belong to its offer', () => {
  it('passes when every product is the offer’s, or when no products are named', () => {
    expect(() => assertProductsIn(['course'], new Set(['course', 'community']), 'is not in offer o')).not.toThrow();
    expect(() => assertProductsIn(null, new Set(), 'is not in offer o')).not.toThrow();
    expect(() => assertProductsIn([], new Set(['course']), 'is not in offer o')).not.toThrow();
  });

  it('names each product that is not, by its index, in one 400', () => {
    let error: unknown;
    try {
      assertProductsIn(['course', 'x', 'y'], new Set(['course']), 'is not in offer o');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toBe('product x is not in offer o; product y is not in offer o');
    expect((error as InvalidInputError).details).toEqual([
      { field: 'productIds[1]', message: 'product x is not in offer o' },
      { field: 'productIds[2]', message: 'product y is not in offer o' },
    ]);
  });
});

describe('bulkFingerprint (what an Idempotency-Key replay must match)', () => {
  const offer = { type: 'offer' as const, offerId: 'o', productIds: null };
  const customers = { type: 'customers' as const, customerIds: ['b', 'a'], productIds: ['p2', 'p1'] };

  it('is the same for the same request, whatever the order of its ids', () => {
    expect(bulkFingerprint('revoke', customers)).toBe(
      bulkFingerprint('revoke', { ...customers, customerIds: ['a', 'b'], productIds: ['p1', 'p2'] }),
    );
    expect(bulkFingerprint('revoke', offer)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('differs by operation, selection, target, products and undone job', () => {
    const all = [
      bulkFingerprint('revoke', offer),
      bulkFingerprint('undo', offer),
      bulkFingerprint('revoke', { ...offer, offerId: 'other' }),
      bulkFingerprint('revoke', { ...offer, productIds: ['p1'] }),
      bulkFingerprint('revoke', customers),
      bulkFingerprint('revoke', { ...customers, customerIds: ['a'] }),
      bulkFingerprint('revoke', { ...customers, productIds: null }),
      bulkFingerprint('undo', { undoOf: 'job-1' }),
      bulkFingerprint('undo', { undoOf: 'job-2' }),
    ];
    expect(new Set(all).size).toBe(all.length);
  });
});
