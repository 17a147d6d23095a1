/**
 * A small deterministic random source for property-style tests: the same
 * seed gives the same sequence, so a failure names a reproducible case.
 * Values in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}
