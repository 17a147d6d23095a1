/**
 * Layer merge for config sources: maps merge key by key, everything else
 * (lists, scalars) is replaced by the higher-precedence layer, so a list of
 * endpoints from env replaces the file's list instead of appending to it.
 * One exception, the same as between levels (lb-levels.ts): a
 * `loadBalancer` that names another policy does not take the lower layer's
 * `config`, which was written for the policy it replaces.
 */
import { dropsConfigOf } from './lb-levels.js';

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

function mergeTwo(low: unknown, high: unknown, key?: string): unknown {
  if (!isMap(low) || !isMap(high)) return high;
  const out: Record<string, unknown> = { ...low };
  if (key === 'loadBalancer' && dropsConfigOf(low, high)) delete out.config;
  for (const [k, v] of Object.entries(high)) {
    if (v === undefined) continue;
    out[k] = k in out ? mergeTwo(out[k], v, k) : v;
  }
  return out;
}
