/**
 * IP addresses and CIDR blocks as numbers, for `ipBlocks`, `remoteIpBlocks`
 * and the `source.ip`, `remote.ip`, `destination.ip` conditions.
 *
 * Request addresses are parsed by hand into a caller-owned Uint32Array, so a
 * check allocates nothing; blocks are parsed once, at compile time, into
 * (base, mask) words. An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, which
 * Node reports for IPv4 peers on a dual-stack socket) counts as IPv4, and so
 * does a block inside `::ffff:0:0/96`: otherwise an IPv4 block would never
 * match those peers.
 */
import { isIP } from 'node:net';

export const NOT_IP = 0;
export const IPV4 = 4;
export const IPV6 = 6;
export type IpFamily = typeof NOT_IP | typeof IPV4 | typeof IPV6;

/** Reused by parseIp for IPv6 groups; parsing never re-enters, so one is enough. */
const groups = new Uint16Array(8);

/** The IPv4 address in text[start, end) as an unsigned 32-bit number, or -1. */
function parseV4(text: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      dots++;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The IPv6 address in text[start, end) into `out` (four words); false when malformed. */
function parseV6(text: string, start: number, end: number, out: Uint32Array): boolean {
  const zone = text.indexOf('%', start);
  if (zone >= 0 && zone < end) end = zone;
  let n = 0;
  let gap = -1;
  let i = start;
  if (text.charCodeAt(i) === 58 /* : */) {
    if (text.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    let j = i;
    let value = 0;
    while (j < end) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      if (++j - i > 4) return false;
    }
    if (j < end && text.charCodeAt(j) === 46 /* . */) {
      // An embedded IPv4 address ends the text and fills the last two groups.
      const v4 = parseV4(text, i, end);
      if (v4 < 0 || n > 6) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (j === i || n === 8) return false;
    groups[n++] = value;
    if (j === end) break;
    if (text.charCodeAt(j) !== 58) return false;
    j++;
    if (text.charCodeAt(j) === 58 && j < end) {
      if (gap >= 0) return false;
      gap = n;
      j++;
    } else if (j === end) {
      return false;
    }
    i = j;
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  const fill = 8 - n;
  for (let k = 7; k >= 0; k--) {
    if (gap < 0 || k >= gap + fill) groups[k] = groups[k - fill]!;
    else if (k >= gap) groups[k] = 0;
  }
  for (let w = 0; w < 4; w++) out[w] = groups[2 * w]! * 0x10000 + groups[2 * w + 1]!;
  return true;
}

/**
 * Parse `text` into `out`: IPv4 in out[0], IPv6 in out[0..3] (big-endian
 * words). Returns the family, NOT_IP when the text is not an address.
 */
export function parseIp(text: string, out: Uint32Array): IpFamily {
  if (text.indexOf(':') < 0) {
    const v4 = parseV4(text, 0, text.length);
    if (v4 < 0) return NOT_IP;
    out[0] = v4;
    return IPV4;
  }
  if (!parseV6(text, 0, text.length, out)) return NOT_IP;
  if (out[0] === 0 && out[1] === 0 && out[2] === 0xffff) {
    out[0] = out[3]!;
    return IPV4;
  }
  return IPV6;
}

function maskWord(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

/** A parsed block: the address with host bits cleared, and the prefix length. */
export interface IpBlock {
  readonly family: typeof IPV4 | typeof IPV6;
  readonly words: Uint32Array;
  readonly prefix: number;
}

/**
 * `10.0.0.0/8`, `2001:db8::/32` or a single address. When invalid, the
 * reason, worded to follow the quoted value (`"10.0.0.0/33" has prefix …`).
 */
export function parseIpBlock(text: string): IpBlock | string {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const kind = isIP(address);
  if (kind === 0) {
    return slash < 0
      ? 'is not an IP address or CIDR block'
      : `has address ${JSON.stringify(address)}, which is not an IPv4 or IPv6 address`;
  }
  const words = new Uint32Array(4);
  let family = parseIp(address, words);
  const max = kind === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const bits = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) {
      return `has prefix length ${JSON.stringify(bits)}; write a number from 0 to ${max}`;
    }
    prefix = Number(bits);
  }
  if (family === IPV4 && kind === 6) {
    // ::ffff:a.b.c.d/n: only the bits past the mapped prefix select IPv4 addresses.
    if (prefix < 96) family = IPV6;
    else prefix -= 96;
    if (family === IPV6) parseV6(address, 0, address.length, words);
  }
  if (family === NOT_IP) return `has address ${JSON.stringify(address)}, which is not an IPv4 or IPv6 address`;
  const width = family === IPV4 ? 1 : 4;
  for (let w = 0; w < width; w++) words[w] = (words[w]! & maskWord(prefix - 32 * w)) >>> 0;
  return { family, words, prefix };
}

/** A list of blocks, tested with a few integer operations per block. */
export class IpRanges {
  /** (base, mask) pairs. */
  readonly #v4: Uint32Array;
  /** (base0..3, mask0..3) per block. */
  readonly #v6: Uint32Array;

  constructor(blocks: readonly IpBlock[]) {
    const v4 = blocks.filter((b) => b.family === IPV4);
    const v6 = blocks.filter((b) => b.family === IPV6);
    this.#v4 = new Uint32Array(v4.length * 2);
    v4.forEach((b, i) => {
      this.#v4[2 * i] = b.words[0]!;
      this.#v4[2 * i + 1] = maskWord(b.prefix);
    });
    this.#v6 = new Uint32Array(v6.length * 8);
    v6.forEach((b, i) => {
      for (let w = 0; w < 4; w++) {
        this.#v6[8 * i + w] = b.words[w]!;
        this.#v6[8 * i + 4 + w] = maskWord(b.prefix - 32 * w);
      }
    });
  }

  test(family: IpFamily, ip: Uint32Array): boolean {
    if (family === IPV4) {
      const v4 = this.#v4;
      const a = ip[0]!;
      for (let i = 0; i < v4.length; i += 2) if (((a & v4[i + 1]!) >>> 0) === v4[i]) return true;
      return false;
    }
    if (family !== IPV6) return false;
    const v6 = this.#v6;
    for (let i = 0; i < v6.length; i += 8) {
      if (
        ((ip[0]! & v6[i + 4]!) >>> 0) === v6[i] &&
        ((ip[1]! & v6[i + 5]!) >>> 0) === v6[i + 1] &&
        ((ip[2]! & v6[i + 6]!) >>> 0) === v6[i + 2] &&
        ((ip[3]! & v6[i + 7]!) >>> 0) === v6[i + 3]
      ) {
        return true;
      }
    }
    return false;
  }
}
