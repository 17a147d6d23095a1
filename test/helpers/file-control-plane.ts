/**
 * Our control plane on a config file, on port 0, and the meshes that use it
 * over MESH_XDS_SERVER, for tests of what a proxyless client makes of what
 * the control plane serves. `close()` ends the meshes, the control plane,
 * the test servers and the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from '../../src/control/control-plane.js';
import { createMesh, type Mesh, type MeshOptions } from '../../src/index.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { closeServers } from './versioned-server.js';

const QUIET = { info() {}, warn() {}, error() {} };

export interface FileControlPlane {
  readonly cp: ControlPlane;
  /** A mesh subscribed to `listeners` (MESH_XDS_LISTENERS), ready; `env` adds variables, `options` the rest. */
  meshOver(listeners: string, env?: Record<string, string>, options?: Omit<MeshOptions, 'env'>): Promise<Mesh>;
  close(): Promise<void>;
}

export async function fileControlPlane(yaml: string): Promise<FileControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-cp-'));
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, yaml);
  const cp = new ControlPlane({ configFile: file, host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), debounceMs: 20 });
  await cp.start();
  const meshes: Mesh[] = [];
  return {
    cp,
    async meshOver(listeners, env = {}, options = {}) {
      const mesh = createMesh({ logger: QUIET, ...options, env: { MESH_XDS_SERVER: `127.0.0.1:${cp.port}`, MESH_XDS_LISTENERS: listeners, ...env } });
      meshes.push(mesh);
      await mesh.ready();
      return mesh;
    },
    async close() {
      await Promise.all(meshes.map((m) => m.destroy()));
      await cp.close();
      await closeServers();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
