/**
 * Layer merge for config sources: maps merge key by key, everything else
 * (lists, scalars) is replaced by the higher-precedence layer, so a list of
 * endpoints from env replaces the file's list instead of appending to it.
 */
export function mergeLayers(layers: readonly unknown[]): unknown {
  let out: unknown;
  for (const layer of layers) {
    if (layer === undefined) continue;
    out = out === undefined ? layer : mergeTwo(out, layer);
  }
  return out ?? {};
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeTwo(low: unknown, high: unknown): unknown {
  if (!isMap(low) || !isMap(high)) return high;
  const out: Record<string, unknown> = { ...low };
  for (const [k, v] of Object.entries(high)) {
    if (v === undefined) continue;
    out[k] = k in low ? mergeTwo(low[k], v) : v;
  }
  return out;
}
