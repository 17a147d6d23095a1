/**
 * MurmurHash3 (x86, 32-bit) for ring placement and request keys.
 *
 * Why murmur3 and not FNV-1a: FNV-1a's low bits avalanche poorly on short,
 * similar keys ("10.0.0.1:80", "10.0.0.2:80"), which clusters ring points;
 * murmur3's finaliser fixes that for a few extra multiplies (see hash.test.ts,
 * which measures both). Strings are hashed as their UTF-8 bytes without
 * encoding them first, so a header value hashes the same whether undici gives
 * it to us as a string or a Buffer, and the output matches every other
 * murmur3_32 implementation (test vectors in hash.test.ts).
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, C2);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, tail: number, tailBytes: number, length: number): number {
  if (tailBytes > 0) {
    let k = Math.imul(tail, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  return mix32(h ^ length);
}

/** murmur3's finaliser: a cheap bijective avalanche of a 32-bit value. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** murmur3_32 of the UTF-8 encoding of `s.slice(start, end)`, without slicing or encoding. */
export function hashString(s: string, seed = 0, start = 0, end = s.length): number {
  let h = seed | 0;
  let i = start;
  // Fast path: whole blocks of ASCII, the common case for addresses and keys.
  while (i + 4 <= end) {
    const a = s.charCodeAt(i);
    const b = s.charCodeAt(i + 1);
    const c = s.charCodeAt(i + 2);
    const d = s.charCodeAt(i + 3);
    if ((a | b | c | d) >= 0x80) break;
    h = mixBlock(h, a | (b << 8) | (c << 16) | (d << 24));
    i += 4;
  }
  let length = i - start;
  let tail = 0;
  let shift = 0;
  for (; i < end; i++) {
    let cp = s.charCodeAt(i);
    let bytes: number; // up to four UTF-8 bytes, first byte lowest
    let count: number;
    if (cp < 0x80) {
      bytes = cp;
      count = 1;
    } else if (cp < 0x800) {
      bytes = (0xc0 | (cp >> 6)) | ((0x80 | (cp & 63)) << 8);
      count = 2;
    } else {
      const next = i + 1 < end ? s.charCodeAt(i + 1) : 0;
      if (cp >= 0xd800 && cp < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00);
        i++;
        bytes =
          (0xf0 | (cp >> 18)) |
          ((0x80 | ((cp >> 12) & 63)) << 8) |
          ((0x80 | ((cp >> 6) & 63)) << 16) |
          ((0x80 | (cp & 63)) << 24);
        count = 4;
      } else {
        // A lone surrogate encodes as U+FFFD, as TextEncoder and Buffer do.
        if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
        bytes = (0xe0 | (cp >> 12)) | ((0x80 | ((cp >> 6) & 63)) << 8) | ((0x80 | (cp & 63)) << 16);
        count = 3;
      }
    }
    length += count;
    for (; count > 0; count--) {
      tail |= (bytes & 0xff) << shift;
      bytes >>>= 8;
      shift += 8;
      if (shift === 32) {
        h = mixBlock(h, tail);
        tail = 0;
        shift = 0;
      }
    }
  }
  return finish(h, tail, shift, length);
}

/** murmur3_32 of `bytes[start, end)`. */
export function hashBytes(bytes: Uint8Array, seed = 0, start = 0, end = bytes.length): number {
  let h = seed | 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    h = mixBlock(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  let tail = 0;
  let shift = 0;
  for (; i < end; i++, shift += 8) tail |= bytes[i]! << shift;
  return finish(h, tail, shift, end - start);
}
