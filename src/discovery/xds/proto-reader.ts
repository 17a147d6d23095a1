/**
 * A typed walk over a decoded Envoy message (protobufjs `toObject` output:
 * enums as names, 64-bit integers as strings, oneofs named by their case).
 * Every reader knows its field path, so a decoder that rejects a value can
 * say exactly where it sat: `virtual_hosts[0].routes[2].match.safe_regex`.
 */

type Msg = Readonly<Record<string, unknown>>;

/** A resource field the mesh cannot use; the NACK message names `path`. */
export class FieldError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(path === '' ? message : `${path}: ${message}`);
    this.name = 'FieldError';
    this.path = path;
  }
}

function isMsg(v: unknown): v is Msg {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export class ProtoReader {
  readonly path: string;
  readonly raw: Msg;

  constructor(raw: Msg, path = '') {
    this.raw = raw;
    this.path = path;
  }

  at(field: string): string {
    return this.path === '' ? field : `${this.path}.${field}`;
  }

  fail(field: string, message: string): never {
    throw new FieldError(field === '' ? this.path : this.at(field), message);
  }

  /** A nested message, or undefined when unset. */
  msg(field: string): ProtoReader | undefined {
    const v = this.raw[field];
    return isMsg(v) ? new ProtoReader(v, this.at(field)) : undefined;
  }

  list(field: string): ProtoReader[] {
    const v = this.raw[field];
    if (!Array.isArray(v)) return [];
    return v.filter(isMsg).map((m, i) => new ProtoReader(m, `${this.at(field)}[${i}]`));
  }

  strings(field: string): string[] {
    const v = this.raw[field];
    return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
  }

  str(field: string): string {
    const v = this.raw[field];
    return typeof v === 'string' ? v : '';
  }

  num(field: string): number {
    const v = this.raw[field];
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v !== '') return Number(v);
    return 0;
  }

  bool(field: string): boolean {
    return this.raw[field] === true;
  }

  bytes(field: string): Uint8Array | undefined {
    const v = this.raw[field];
    return v instanceof Uint8Array ? v : undefined;
  }

  /** Which case of a oneof is set ('' when none). */
  oneof(name: string): string {
    return this.str(name);
  }

  /** A google.protobuf wrapper (UInt32Value, BoolValue, ...): its value, or undefined when unset. */
  wrapped(field: string): number | undefined {
    const m = this.msg(field);
    return m === undefined ? undefined : m.num('value');
  }

  wrappedBool(field: string): boolean | undefined {
    const m = this.msg(field);
    return m === undefined ? undefined : m.bool('value');
  }

  /** A google.protobuf.Duration in milliseconds, or undefined when unset. */
  durationMs(field: string): number | undefined {
    const m = this.msg(field);
    if (m === undefined) return undefined;
    const ms = m.num('seconds') * 1000 + Math.round(m.num('nanos') / 1e6);
    if (!Number.isFinite(ms) || ms < 0) this.fail(field, 'must be a non-negative duration');
    return ms;
  }

  /** Fields set to something other than their default, among `fields`: for "not supported" checks. */
  setAmong(fields: readonly string[]): string[] {
    return fields.filter((f) => isSet(this.raw[f]));
  }
}

function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '' || v === '0') return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

const DENOMINATORS: Readonly<Record<string, number>> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

/** A FractionalPercent as a percentage from 0 to 100 (undefined when unset). */
export function fractionalPercent(r: ProtoReader | undefined): number | undefined {
  if (r === undefined) return undefined;
  const denominator = DENOMINATORS[r.str('denominator') || 'HUNDRED'] ?? 100;
  return Math.min(100, (r.num('numerator') / denominator) * 100);
}
