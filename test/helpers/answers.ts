/**
 * What a mesh's requests to one URL come back with, as `status:body`
 * strings, for tests that check where traffic lands (each test server
 * answers with its own name).
 */
import type { Mesh } from '../../src/index.js';

/** The distinct answers of `n` sequential requests, sorted. */
export async function answersSeen(mesh: Mesh, url: string, n: number): Promise<string[]> {
  const out = new Set<string>();
  for (let i = 0; i < n; i++) {
    const res = await mesh.request(url);
    out.add(`${res.statusCode}:${await res.body.text()}`);
  }
  return [...out].sort();
}
