/** Shared helpers for the routing tests: parsed configs and request views. */
import { type RouteConfig, type RouteConfigInput, routesSchema } from '../../../src/config/route-schema.js';
import type { RouteRequest } from '../../../src/routing/route-table.js';

/** Routes as a user writes them, validated the way the mesh will. */
export function routes(...input: RouteConfigInput[]): RouteConfig[] {
  return routesSchema.parse(input);
}

/** A request view; header names given in any case are found lowercased. */
export function req(path: string, headers: Record<string, string> = {}, method = 'GET', authority = 'reviews'): RouteRequest {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, path, authority, header: (name) => lower.get(name) };
}

/** A deterministic RNG (mulberry32), so a failing property case replays. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
