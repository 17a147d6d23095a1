import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);

test('examples/outbound runs and shows all three ways of calling a meshed service', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/outbound/main.ts'], {
    timeout: 15_000,
    env: { ...process.env, MESH_SERVICES: '', MESH_CONFIG_FILE: '' },
  });
  const lines = stdout.trim().split('\n');
  const viaMeshFetch = lines.filter((l) => l.startsWith('meshFetch'));
  expect(viaMeshFetch).toHaveLength(4);
  // round-robin over two replicas, from env vars alone
  expect(new Set(viaMeshFetch.map((l) => l.match(/catalog-\d/)![0]))).toEqual(new Set(['catalog-1', 'catalog-2']));
  expect(lines.find((l) => l.startsWith('mesh.request'))).toContain('"host":"catalog.shop.svc.cluster.local:8080"');
  expect(lines.find((l) => l.startsWith('global fetch'))).toMatch(/catalog-\d/);
});
