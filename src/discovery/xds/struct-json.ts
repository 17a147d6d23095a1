/**
 * google.protobuf.Struct as plain JSON, for the Structs the mesh reads: the
 * cluster's proxyless metadata and a custom load-balancing policy's
 * TypedStruct config (gRFC A52). One decoder, so both read numbers, lists,
 * nested maps and nulls alike. A null stays null, as in gRPC's reading of a
 * policy's config: a config written `{ a: null }` then arrives over xDS as it
 * does from a file. Only a Value with no kind set at all is left out.
 */
import type { ProtoReader } from './proto-reader.js';

/** Struct values: protobufjs names them in camelCase (a built-in well-known type); snake_case is accepted too. */
function pick(v: ProtoReader, name: string): string {
  return v.raw[name] !== undefined ? name : name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function fromValue(v: ProtoReader): unknown {
  const kind = v.oneof('kind').replace(/([A-Z])/g, (c) => `_${c.toLowerCase()}`);
  switch (kind) {
    case 'number_value':
      return v.num(pick(v, 'number_value'));
    case 'string_value':
      return v.str(pick(v, 'string_value'));
    case 'bool_value':
      return v.bool(pick(v, 'bool_value'));
    case 'null_value':
      return null;
    case 'struct_value': {
      const s = v.msg(pick(v, 'struct_value'));
      return s === undefined ? {} : fromStruct(s);
    }
    case 'list_value':
      // An item with no kind is a null here: dropping it would shift every later item.
      return (v.msg(pick(v, 'list_value'))?.list('values') ?? []).map((item) => fromValue(item) ?? null);
    default:
      return undefined;
  }
}

/** A google.protobuf.Struct as plain JSON (fields whose Value has no kind left out). */
export function fromStruct(s: ProtoReader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = s.raw.fields;
  if (typeof fields !== 'object' || fields === null) return out;
  for (const key of Object.keys(fields)) {
    const v = s.msg('fields')?.msg(key);
    const value = v === undefined ? undefined : fromValue(v);
    if (value !== undefined) out[key] = value;
  }
  return out;
}
