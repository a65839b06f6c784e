import { describe, expect, it } from '@jest/globals';
import { InvalidInputError } from '../../shared/domain/errors.ts';
import {
  customerInput,
  grantInput,
  id,
  instant,
  offerInput,
  priceInput,
  productInput,
  productSelection,
} from '../../shared/http/schemas.ts';
import { parseInput } from '../../shared/http/validation.ts';
import { thrownBy } from './fixtures.ts';

/** The field names of the 400 that parsing `value` throws. */
function fieldsRejected(parse: () => unknown): string[] {
  const error = thrownBy(parse);
  if (!(error instanceof InvalidInputError)) throw new Error(`expected an InvalidInputError, got ${String(error)}`);
  return error.details.map((problem) => problem.field);
}

const validOffer = {
  name: 'Plan',
  productIds: ['course'],
  price: { type: 'payment_plan', amount: 1000, currency: 'usd', installments: 3, interval: 'month' },
};

describe('parseInput', () => {
  it('returns the parsed value when the input is valid', () => {
    expect(parseInput(productInput, { name: '  Course  ' })).toEqual({ name: 'Course' });
  });

  it('throws an InvalidInputError for invalid input', () => {
    expect(() => parseInput(productInput, { name: '' })).toThrow(InvalidInputError);
  });

  it('names a nested field with a dot: price.installments', () => {
    const body = { ...validOffer, price: { ...validOffer.price, installments: 1 } };

    expect(fieldsRejected(() => parseInput(offerInput, body))).toEqual(['price.installments']);
  });

  it('names an array element by index: productIds[1]', () => {
    const body = { productIds: ['course', 'bad#id'] };

    expect(fieldsRejected(() => parseInput(productSelection, body))).toEqual(['productIds[1]']);
  });

  it("names a body that is not an object 'body'", () => {
    expect(fieldsRejected(() => parseInput(productSelection, ['course']))).toEqual(['body']);
  });

  it('names the root after the caller-given source', () => {
    expect(fieldsRejected(() => parseInput(id, 'a#b', 'path.customerId'))).toEqual(['path.customerId']);
  });

  it('names every offending field, not just the first', () => {
    const body = { name: '', productIds: [], price: { type: 'free' } };

    expect(fieldsRejected(() => parseInput(offerInput, body)).sort()).toEqual(['name', 'productIds']);
  });

  it('puts each field name into the error message', () => {
    const error = thrownBy(() => parseInput(productSelection, { productIds: ['ok', 'bad#id'] }));

    expect((error as Error).message).toContain('productIds[1]');
  });

  it('mentions an unknown key by name in the message', () => {
    const error = thrownBy(() => parseInput(productSelection, { productId: 'course' }));

    expect((error as Error).message).toContain('productId');
  });
});

describe('schemas', () => {
  it.each(['course', 'a.b_c:d-1', 'A'.repeat(128)])('accepts the id %s', (value) => {
    expect(id.safeParse(value).success).toBe(true);
  });

  it.each([
    ['a key separator #', 'site#1'],
    ['a slash', 'a/b'],
    ['a space', 'a b'],
    ['the empty string', ''],
    ['129 characters', 'A'.repeat(129)],
  ])('refuses an id with %s', (_name, value) => {
    expect(id.safeParse(value).success).toBe(false);
  });

  it('lower-cases the currency', () => {
    const price = parseInput(priceInput, { type: 'one_time', amount: 500, currency: 'EUR' });

    expect(price).toEqual({ type: 'one_time', amount: 500, currency: 'eur' });
  });

  it('refuses an amount that is not a whole number of minor units', () => {
    expect(fieldsRejected(() => parseInput(priceInput, { type: 'one_time', amount: 4.5, currency: 'usd' }))).toEqual([
      'amount',
    ]);
  });

  it('defaults intervalCount to 1', () => {
    const price = parseInput(priceInput, { type: 'subscription', amount: 500, currency: 'usd', interval: 'month' });

    expect(price).toMatchObject({ intervalCount: 1 });
  });

  it('normalizes an instant with an offset to a UTC ISO string ending in Z', () => {
    expect(parseInput(instant, '2026-03-01T10:00:00+01:00')).toBe('2026-03-01T09:00:00.000Z');
  });

  it('normalizes a negative offset across midnight', () => {
    expect(parseInput(instant, '2026-03-01T22:30:00-05:00')).toBe('2026-03-02T03:30:00.000Z');
  });

  it('adds milliseconds to a Z instant', () => {
    expect(parseInput(instant, '2026-03-01T10:00:00Z')).toBe('2026-03-01T10:00:00.000Z');
  });

  it.each([
    ['no offset', '2026-03-01T10:00:00'],
    ['a date only', '2026-03-01'],
    ['an impossible date', '2026-02-30T00:00:00Z'],
    ['free text', 'tomorrow'],
  ])('refuses an instant with %s', (_name, value) => {
    expect(instant.safeParse(value).success).toBe(false);
  });

  it("defaults grantInput's processor to 'none'", () => {
    expect(parseInput(grantInput, { customerId: 'customer-1', offerId: 'offer-1' })).toEqual({
      customerId: 'customer-1',
      offerId: 'offer-1',
      processor: 'none',
    });
  });

  it("normalizes grantInput's currentPeriodEnd to UTC", () => {
    const input = parseInput(grantInput, {
      customerId: 'customer-1',
      offerId: 'offer-1',
      currentPeriodEnd: '2026-04-01T12:00:00+02:00',
    });

    expect(input.currentPeriodEnd).toBe('2026-04-01T10:00:00.000Z');
  });

  it('refuses an unknown processor naming the processor field', () => {
    const body = { customerId: 'customer-1', offerId: 'offer-1', processor: 'square' };

    expect(fieldsRejected(() => parseInput(grantInput, body))).toEqual(['processor']);
  });

  it('refuses an empty productIds list (omit it to mean all products)', () => {
    expect(fieldsRejected(() => parseInput(productSelection, { productIds: [] }))).toEqual(['productIds']);
  });

  it('refuses a customer without a valid email', () => {
    expect(fieldsRejected(() => parseInput(customerInput, { email: 'not-an-email' }))).toEqual(['email']);
  });
});
