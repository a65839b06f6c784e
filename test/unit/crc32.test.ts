import * as zlib from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { crc32, tableCrc32 } from '../../shared/adapters/crc32.ts';

// CRC-32/ISO-HDLC (IEEE 802.3), the checksum PayPal signs. Edge values first: the empty input, the catalogue's
// check value, single bytes, runs of 0x00 and 0xFF, every byte value once, multi-byte UTF-8, and results with the
// top bit set (which must come out unsigned). Each vector is checked against both implementations.
const VECTORS: [string, string | Uint8Array, number][] = [
  ['the empty string', '', 0x00000000],
  ['"123456789" (the CRC catalogue check value)', '123456789', 0xcbf43926],
  ['"a" (top bit set: unsigned, not negative)', 'a', 0xe8b7be43],
  ['the quick brown fox', 'The quick brown fox jumps over the lazy dog', 0x414fa339],
  ['32 zero bytes', new Uint8Array(32), 0x190a55ad],
  ['32 bytes of 0xFF', new Uint8Array(32).fill(0xff), 0xff6cab0b],
  ['every byte value 0x00…0xFF once', Uint8Array.from({ length: 256 }, (_, i) => i), 0x29058c73],
  ['"résumé" (multi-byte UTF-8: the bytes are checked, not the UTF-16 units)', 'résumé', 0xa5f081b7],
];

describe('CRC32 (IEEE)', () => {
  it.each(VECTORS)('the table implementation: %s', (_name, input, expected) => {
    expect(tableCrc32(input)).toBe(expected);
  });

  it.each(VECTORS)('crc32 (zlib when present): %s', (_name, input, expected) => {
    expect(crc32(input)).toBe(expected);
  });

  it('a string and its UTF-8 bytes have the same checksum', () => {
    const text = '{"id":"WH-1","résumé":"ü","emoji":"🙂"}';

    expect(tableCrc32(text)).toBe(tableCrc32(Buffer.from(text, 'utf8')));
  });

  // zlib.crc32 exists from Node 20.15 (crc32.ts falls back to the table before that).
  const withZlib = typeof zlib.crc32 === 'function' ? it : it.skip;

  withZlib('the table implementation agrees with zlib on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        expect(tableCrc32(bytes)).toBe(zlib.crc32(bytes) >>> 0);
      }),
    );
  });
});
