/**
 * The default mesh behind `meshFetch`: built from env vars on first use, not
 * at import, so importing the package has no side effects.
 */
import { createMesh, type Mesh } from './mesh.js';

let instance: Mesh | undefined;

export function defaultMesh(): Mesh {
  instance ??= createMesh();
  return instance;
}

/** fetch, through the default mesh (configured from `MESH_*` env vars). */
export function meshFetch(...args: Parameters<Mesh['fetch']>): ReturnType<Mesh['fetch']> {
  return defaultMesh().fetch(...args);
}
