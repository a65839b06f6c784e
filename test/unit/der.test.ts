import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { der, oid, time, unsignedInteger } from '../../infra/local/der.ts';
import { generatePayPalSigningMaterial } from '../../infra/local/paypal-sandbox.ts';

/**
 * The DER encoder behind the local PayPal sandbox's certificate, on the edge values where a hand-rolled
 * encoder goes wrong. A random serial hit one of them once in 256 starts (first byte 0x00, second below
 * 0x80: a redundant leading zero, which OpenSSL refuses), so random input is no test of it.
 */

const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex');
const encoded = (buffer: Buffer) => buffer.toString('hex');

describe('unsignedInteger: the one DER form of a non-negative integer', () => {
  it.each([
    ['a leading zero before a byte below 0x80 is dropped', '00 01 ff', '02 02 01ff'],
    [
      'a leading zero before a byte with the top bit set is kept (it marks the value positive)',
      '00 81 ff',
      '02 03 0081ff',
    ],
    ['a zero is added before a first byte with the top bit set', '80 00', '02 03 008000'],
    ['0xff alone needs the added zero too', 'ff', '02 02 00ff'],
    ['a first byte of 0x7f is left as it is', '7f ff', '02 02 7fff'],
    ['several leading zeros are all dropped', '00 00 01', '02 01 01'],
    ['several leading zeros before a high byte leave exactly one', '00 00 00 80', '02 02 0080'],
    ['a single zero stays one zero byte', '00', '02 01 00'],
    ['all zeros are zero', '00 00 00', '02 01 00'],
    ['no bytes at all are zero', '', '02 01 00'],
    ['a small number is one byte', '02', '02 01 02'],
  ])('%s', (_rule, input, expected) => {
    expect(encoded(unsignedInteger(hex(input)))).toBe(encoded(hex(expected)));
  });

  it('uses the long length form for a content of 128 bytes or more', () => {
    const big = Buffer.concat([Buffer.from([0x80]), Buffer.alloc(127)]);

    const result = unsignedInteger(big);

    expect(encoded(result.subarray(0, 5))).toBe('0281810080');
    expect(result).toHaveLength(3 + 129);
  });

  it('does not change the bytes it was given', () => {
    const input = hex('00 01 ff');

    unsignedInteger(input);

    expect(encoded(input)).toBe('0001ff');
  });
});

describe('der: tag and length', () => {
  it.each([
    [0, '0400'],
    [1, '0401'],
    [127, '047f'],
    [128, '048180'],
    [255, '0481ff'],
    [256, '04820100'],
    [65_535, '0482ffff'],
    [65_536, '0483010000'],
  ])('a content of %i bytes has the shortest length header', (length, header) => {
    const result = der(0x04, Buffer.alloc(length, 0xaa));

    expect(encoded(result.subarray(0, header.length / 2))).toBe(header);
    expect(result).toHaveLength(header.length / 2 + length);
  });
});

describe('oid', () => {
  it.each([
    ['2.5.4.3', '06 03 550403'],
    ['1.2.840.113549.1.1.11', '06 09 2a864886f70d01010b'],
    ['0.0', '06 01 00'],
    ['1.39', '06 01 4f'],
    // X.690 §8.19.5's example: the merged first arc (2 × 40 + 999) takes two base-128 bytes.
    ['2.999.3', '06 03 883703'],
    ['1.2.127.128.16383.16384', '06 09 2a7f8100ff7f818000'],
  ])('%s', (dotted, expected) => {
    expect(encoded(oid(dotted))).toBe(encoded(hex(expected)));
  });

  it.each(['1', '3.1', '1.40', '1.2.x', '1.-2'])('refuses %s', (dotted) => {
    expect(() => oid(dotted)).toThrow('object identifier');
  });
});

describe('time: UTCTime inside 1950–2049, GeneralizedTime outside', () => {
  it.each([
    ['1949-12-31T23:59:59.999Z', '18 0f', '19491231235959Z'],
    ['1950-01-01T00:00:00.000Z', '17 0d', '500101000000Z'],
    ['2049-12-31T23:59:59.000Z', '17 0d', '491231235959Z'],
    ['2050-01-01T00:00:00.000Z', '18 0f', '20500101000000Z'],
  ])('%s', (instant, header, text) => {
    expect(encoded(time(new Date(instant)))).toBe(`${header.replace(' ', '')}${Buffer.from(text).toString('hex')}`);
  });
});

describe('the sandbox certificate with edge serial numbers', () => {
  it.each([
    ['00 01', '0001aabbccddeeff00112233445566', '01AABBCCDDEEFF00112233445566'],
    ['00 81', '0081aabbccddeeff00112233445566', '81AABBCCDDEEFF00112233445566'],
    ['80', '80aabbccddeeff0011223344556677', '80AABBCCDDEEFF0011223344556677'],
    ['7f', '7faabbccddeeff0011223344556677', '7FAABBCCDDEEFF0011223344556677'],
    ['00 00 01', '000001', '01'],
  ])('a serial starting %s parses with crypto.X509Certificate, with its value', (_start, serial, expected) => {
    const { certificatePem } = generatePayPalSigningMaterial({ serialNumber: hex(serial) });

    const certificate = new X509Certificate(certificatePem);

    expect(certificate.serialNumber).toBe(expected);
    expect(certificate.subject).toBe('CN=messageverificationcerts.paypal.com');
  });

  it('a default certificate parses and verifies with its own key', () => {
    const { certificatePem } = generatePayPalSigningMaterial();

    const certificate = new X509Certificate(certificatePem);

    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.serialNumber).not.toMatch(/^0+$/);
  });
});
