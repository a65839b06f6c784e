import { describe, expect, it } from '@jest/globals';
import {
  CUSTOM_ID_MAX,
  formatPayPalCustomId,
  minorToPayPalAmount,
  parsePayPalCustomId,
  payPalAmountToMinor,
} from '../../shared/adapters/paypal-codec.ts';

describe('PayPal amounts', () => {
  it('PayPal decimal strings → integer minor units, exactly', () => {
    expect(payPalAmountToMinor('29.00', 'USD')).toBe(2900);
    expect(payPalAmountToMinor('0.1', 'USD')).toBe(10);
    expect(payPalAmountToMinor('19.99', 'EUR')).toBe(1999);
    expect(payPalAmountToMinor('1000', 'JPY')).toBe(1000);
    expect(payPalAmountToMinor('1500', 'HUF')).toBe(1500);
  });

  it('refunds arrive negative and are read as their absolute value', () => {
    expect(payPalAmountToMinor('-0.01', 'USD')).toBe(1);
    expect(payPalAmountToMinor('-10.00', 'USD')).toBe(1000);
  });

  it('digits beyond the currency precision round half up', () => {
    expect(payPalAmountToMinor('0.005', 'USD')).toBe(1);
    expect(payPalAmountToMinor('0.0049', 'USD')).toBe(0);
    expect(payPalAmountToMinor('10.5', 'JPY')).toBe(11);
  });

  it('unreadable values and values beyond a safe integer are null', () => {
    expect(payPalAmountToMinor('abc', 'USD')).toBeNull();
    expect(payPalAmountToMinor('', 'USD')).toBeNull();
    expect(payPalAmountToMinor('.', 'USD')).toBeNull();
    expect(payPalAmountToMinor(undefined, 'USD')).toBeNull();
    expect(payPalAmountToMinor('9'.repeat(30), 'USD')).toBeNull();
    expect(payPalAmountToMinor('90071992547409.91', 'USD')).toBe(9_007_199_254_740_991);
    expect(payPalAmountToMinor('90071992547409.92', 'USD')).toBeNull();
  });

  it('integer minor units → PayPal decimal strings', () => {
    expect(minorToPayPalAmount(2900, 'USD')).toBe('29.00');
    expect(minorToPayPalAmount(5, 'USD')).toBe('0.05');
    expect(minorToPayPalAmount(0, 'USD')).toBe('0.00');
    expect(minorToPayPalAmount(1000, 'JPY')).toBe('1000');
    expect(() => minorToPayPalAmount(-1, 'USD')).toThrow(RangeError);
    expect(() => minorToPayPalAmount(1.5, 'USD')).toThrow(RangeError);
  });
});

describe('PayPal custom_id', () => {
  it('is site:offer:customer', () => {
    expect(formatPayPalCustomId({ siteId: 'site-1', offerId: 'offer-1', customerId: 'cus-1' })).toBe(
      'site-1:offer-1:cus-1',
    );
    expect(parsePayPalCustomId('site-1:offer-1:cus-1')).toEqual({
      siteId: 'site-1',
      offerId: 'offer-1',
      customerId: 'cus-1',
    });
  });

  it('escapes colons inside ids so the three parts stay apart', () => {
    const tricky = { siteId: 'site:a', offerId: 'offer-1', customerId: 'cus:1' };

    expect(parsePayPalCustomId(formatPayPalCustomId(tricky))).toEqual(tricky);
  });

  it("refuses to write more than PayPal's 127 characters", () => {
    expect(() => formatPayPalCustomId({ siteId: 'x'.repeat(120), offerId: 'y'.repeat(20), customerId: 'z' })).toThrow(
      RangeError,
    );
  });

  it('reads exactly 127 characters, not 128', () => {
    const atLimit = `${'s'.repeat(41)}:${'o'.repeat(42)}:${'c'.repeat(42)}`;

    expect(atLimit).toHaveLength(CUSTOM_ID_MAX);
    expect(parsePayPalCustomId(atLimit)).not.toBeNull();
    expect(parsePayPalCustomId(`${atLimit}c`)).toBeNull();
  });

  it('links nothing when a part breaks the API id rule, so a webhook never creates what the API cannot read', () => {
    for (const value of ['site 1:offer-1:cus-1', 'site-1:offer#1:cus-1', 'site-1:offer-1:cus/1', 'site-1::cus-1']) {
      expect(parsePayPalCustomId(value)).toBeNull();
    }
  });

  it("links nothing for a value that is not membergate's (merchants use custom_id for their own references)", () => {
    for (const value of [undefined, null, 42, '', 'INV-2026-0042', 'a:b', 'a:b:c:d', 'site-1:offer-1:cus%2']) {
      expect(parsePayPalCustomId(value)).toBeNull();
    }
  });
});
