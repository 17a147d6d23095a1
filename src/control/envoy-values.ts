/**
 * Small Envoy value shapes (Duration, FractionalPercent, UInt32Value,
 * Struct) built from the config model's plain numbers. Written once here so
 * every translator encodes them the same way.
 */

/** google.protobuf.Duration from milliseconds. */
export function durationOf(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1_000_000) };
}

/**
 * envoy.type.v3.FractionalPercent from a 0-100 percentage. Per million keeps
 * fractions such as 0.5% exact, and every client (Envoy, gRPC) reads it.
 */
export function fractionOf(percent: number): { numerator: number; denominator: 'MILLION' } {
  return { numerator: Math.round(percent * 10_000), denominator: 'MILLION' };
}

export function uint32(value: number): { value: number } {
  return { value };
}

type StructValue =
  | { nullValue: 'NULL_VALUE' }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: { fields: Record<string, StructValue> } }
  | { listValue: { values: StructValue[] } };

/**
 * A JSON-like value as google.protobuf.Struct (undefined fields are left
 * out). protobufjs serves struct.proto from its bundled definitions, whose
 * Value fields are camelCase whatever `keepCase` says, hence `stringValue`.
 */
export function structOf(object: Record<string, unknown>): { fields: Record<string, StructValue> } {
  const fields: Record<string, StructValue> = {};
  for (const [key, value] of Object.entries(object)) {
    if (value !== undefined) fields[key] = structValueOf(value);
  }
  return { fields };
}

function structValueOf(value: unknown): StructValue {
  if (value === null) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(structValueOf) } };
  if (typeof value === 'object') return { structValue: structOf(value as Record<string, unknown>) };
  return { stringValue: String(value) };
}
