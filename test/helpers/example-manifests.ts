/**
 * The objects of examples/kubernetes/*.yaml, in file order, for the tests
 * that hold the example manifests to what the mesh needs of them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/kubernetes/', import.meta.url));

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

export const exampleManifests: readonly Manifest[] = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((f) => parseAllDocuments(readFileSync(join(EXAMPLES_DIR, f), 'utf8')).map((d) => d.toJS() as Manifest))
  .filter((m) => m !== null);

/** The one object of this kind and name; throws naming it when the examples lack it. */
export function findManifest<T>(kind: string, name: string): T {
  const m = exampleManifests.find((x) => x.kind === kind && x.metadata.name === name);
  if (m === undefined) throw new Error(`no ${kind} ${name} in examples/kubernetes`);
  return m as unknown as T;
}
