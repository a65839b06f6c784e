import * as zlib from 'node:zlib';

/**
 * CRC32 (IEEE 802.3), the checksum PayPal puts into the message it signs (paypal-signature.ts): zlib.crc32 on
 * Node ≥ 20.15 / 22 (local and Lambda); a table implementation keeps older Node 20 releases working.
 */

let table: Uint32Array | undefined;

/** Table-driven CRC32 (IEEE), unsigned. Exported for tests; `crc32` prefers zlib's. */
export function tableCrc32(data: string | Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let crc = 0xffffffff;
  for (const byte of bytes) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC32 of the UTF-8 bytes of `data`, as the unsigned integer PayPal puts (in decimal) into the signed message. */
export function crc32(data: string | Uint8Array): number {
  return typeof zlib.crc32 === 'function' ? zlib.crc32(data) >>> 0 : tableCrc32(data);
}
