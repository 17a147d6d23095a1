import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { ConfigError, createMesh, type Mesh } from '../../src/index.js';
import { type EchoServer, startEchos } from '../helpers/echo-server.js';

let dir: string;
let servers: EchoServer[];
let m: Mesh | undefined;
const quiet = { info() {}, warn() {}, error() {} };

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'proxyless-cfg-'));
  servers = await startEchos(2);
});

afterEach(async () => {
  await m?.destroy();
  m = undefined;
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function nameOf(url: string): Promise<string> {
  const res = await m!.request(url);
  return ((await res.body.json()) as { name: string }).name;
}

/** Write the way editors and ConfigMaps do: a new file renamed over the old one. */
function replaceFile(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

test('a watched file follows edits, and an edit into invalid YAML leaves the old config serving', async () => {
  const file = join(dir, 'mesh.yaml');
  const [a, b] = servers as [EchoServer, EchoServer];
  writeFileSync(file, `services:\n  echo:\n    endpoints: ["${a.address}"]\n`);
  m = createMesh({ env: false, configFile: file, logger: quiet });
  expect(await nameOf('http://echo/')).toBe('r0');
  const v1 = m.config.current.version;

  replaceFile(file, `services:\n  echo:\n    endpoints: ["${b.address}"]\n`);
  await expect.poll(() => m!.config.current.version, { timeout: 5000 }).toBeGreaterThan(v1);
  expect(await nameOf('http://echo/')).toBe('r1');
  const v2 = m.config.current.version;

  // Broken YAML: rejected with line and column, nothing changes.
  replaceFile(file, `services:\n  echo:\n    endpoints: ["${a.address}"\n`);
  await expect.poll(() => m!.config.lastRejection, { timeout: 5000 }).toBeDefined();
  expect(m.config.lastRejection!.error.message).toMatch(/YAML syntax error at line \d+, column \d+/);
  expect(m.config.current.version).toBe(v2);
  expect(await nameOf('http://echo/')).toBe('r1');

  // Valid YAML but an invalid config: rejected with the path.
  const rejectedBefore = m.config.lastRejection;
  replaceFile(file, `services:\n  echo:\n    endpoints: ["${a.address}"]\n    loadBalancer: { policy: fastest }\n`);
  await expect.poll(() => m!.config.lastRejection, { timeout: 5000 }).not.toBe(rejectedBefore);
  expect(m.config.lastRejection!.error.issues[0]!.path).toBe('services.echo.loadBalancer.policy');
  expect(m.config.current.version).toBe(v2);
  expect(await nameOf('http://echo/')).toBe('r1');

  // And a later good edit is applied again.
  replaceFile(file, `services:\n  echo:\n    endpoints: ["${a.address}"]\n`);
  await expect.poll(() => m!.config.current.version, { timeout: 5000 }).toBeGreaterThan(v2);
  expect(await nameOf('http://echo/')).toBe('r0');
});

test('an invalid initial file makes createMesh throw a ConfigError naming the file', () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'services:\n  echo:\n    endpoints: [":80"]\n');
  let err: unknown;
  try {
    createMesh({ env: false, configFile: file, logger: quiet });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).source).toBe(`file ${file}`);
  expect((err as ConfigError).issues[0]!.path).toBe('services.echo.endpoints[0]');
});

test('code options override the file and env; env overrides the file', async () => {
  const file = join(dir, 'mesh.yaml');
  const [a, b] = servers as [EchoServer, EchoServer];
  writeFileSync(file, `mesh:\n  zone: file-zone\n  namespace: file-ns\nservices:\n  echo:\n    endpoints: ["${a.address}"]\n`);
  m = createMesh({
    configFile: file,
    env: { MESH_NAMESPACE: 'env-ns', MESH_ZONE: 'env-zone' },
    config: { mesh: { zone: 'code-zone' }, services: { echo: { endpoints: [b.address] } } },
    logger: quiet,
    watchConfigFile: false,
  });
  expect(m.config.current.config.mesh.zone).toBe('code-zone');
  expect(m.config.current.config.mesh.namespace).toBe('env-ns');
  expect(await nameOf('http://echo.env-ns/')).toBe('r1');
  expect(m.config.current.sources.map((s) => s.layer)).toEqual(['file', 'env', 'options']);
});
