/**
 * A minimal DER encoder (ITU-T X.690): just the types the local PayPal sandbox needs to build a self-signed
 * X.509 certificate. node:crypto parses certificates but cannot build one, and no X.509 library is a
 * dependency. DER allows exactly one encoding per value, and OpenSSL (so `crypto.X509Certificate`) rejects
 * anything else, so every function here produces the minimal form; test/unit/der.test.ts holds them to it
 * on the edge values.
 */

/** A tag-length-value: the length in short form below 128 bytes, else long form in as few bytes as it takes. */
export function der(tag: number, content: Uint8Array): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const lengthBytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) lengthBytes.unshift(n % 256);
  return Buffer.concat([Buffer.from([tag, 0x80 | lengthBytes.length, ...lengthBytes]), content]);
}

export function sequence(...items: Uint8Array[]): Buffer {
  return der(0x30, Buffer.concat(items));
}

export function set(...items: Uint8Array[]): Buffer {
  return der(0x31, Buffer.concat(items));
}

/**
 * An INTEGER from a non-negative number given as big-endian bytes (any length, leading zeros allowed;
 * empty is zero). DER wants the shortest two's complement form: redundant leading 0x00 bytes are dropped
 * (a serial whose random first byte is 0x00 and second below 0x80 used to keep its 0x00, which OpenSSL
 * refuses), and one 0x00 is put back when the top bit is set, or the value would read as negative.
 */
export function unsignedInteger(bigEndian: Uint8Array): Buffer {
  let start = 0;
  while (start < bigEndian.length && bigEndian[start] === 0) start++;
  const magnitude = Buffer.from(bigEndian.subarray(start));
  if (magnitude.length === 0) return der(0x02, Buffer.from([0]));
  return der(0x02, magnitude[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude);
}

/** An OBJECT IDENTIFIER from its dotted form; every arc (the merged first two too) in base 128. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((arc) => !Number.isSafeInteger(arc) || arc < 0)) {
    throw new Error(`not an object identifier: ${dotted}`);
  }
  const [first, second, ...rest] = arcs as [number, number, ...number[]];
  if (first > 2 || (first < 2 && second > 39)) throw new Error(`not an object identifier: ${dotted}`);
  const bytes: number[] = [];
  for (const arc of [40 * first + second, ...rest]) {
    const chunk = [arc % 128];
    for (let high = Math.floor(arc / 128); high > 0; high = Math.floor(high / 128)) chunk.unshift((high % 128) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

export function utf8String(text: string): Buffer {
  return der(0x0c, Buffer.from(text, 'utf8'));
}

/** A BIT STRING of whole bytes (no unused bits), as a signature is carried. */
export function bitString(bytes: Uint8Array): Buffer {
  return der(0x03, Buffer.concat([Buffer.from([0]), bytes]));
}

export const DER_NULL = Buffer.from([0x05, 0x00]);

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5), to the second, in UTC (`Z`). */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ (±YYYYYY outside 0000–9999, refused below)
  if (!/^\d{4}-/.test(iso)) throw new Error(`a certificate time needs a four-digit year: ${iso}`);
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? der(0x17, Buffer.from(digits.slice(2))) : der(0x18, Buffer.from(digits));
}
