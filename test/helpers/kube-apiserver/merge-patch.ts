/**
 * JSON merge patch (RFC 7386). kubectl sends strategic merge patches for
 * built-in kinds; for the fields tests change (EndpointSlice endpoints and
 * ports are atomic lists) a strategic patch merges the same way once its
 * `$`-directives are dropped.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}
