/**
 * The whole example in one command:
 *
 *   npx node --import tsx examples/control-plane/run.ts
 *
 * Starts two reviews instances (v1, v2), the control plane serving a copy of
 * mesh.yaml, and a frontend that routes to reviews through xDS. It sends
 * requests along the 80/20 split, edits the file to 20/80, shows the split
 * follow the edit, then stops everything and exits 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'proxyless-example-'));
const configFile = join(work, 'mesh.yaml');
const children: ChildProcess[] = [];

/** Environment for a child: the caller's, minus any mesh settings, plus `extra`. */
function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MESH_') && !k.startsWith('GRPC_XDS_')) env[k] = v;
  return { ...env, MESH_LOG_LEVEL: 'error', ...extra };
}

/** Start a TypeScript file with tsx; resolves with the first stdout match of `ready`. */
function start(name: string, args: string[], extra: Record<string, string>, ready: RegExp): Promise<RegExpMatchArray> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env: envWith(extra), stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const m = ready.exec(out);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready:\n${out}`)));
  });
}

function writeConfig(template: string, weights: [number, number]): void {
  let n = 0;
  const text = template.replace(/weight: \d+/g, () => `weight: ${weights[n++]}`);
  // Write then rename, so the control plane never reads a half-written file.
  writeFileSync(`${configFile}.tmp`, text);
  renameSync(`${configFile}.tmp`, configFile);
}

async function split(frontendPort: number): Promise<Record<string, number>> {
  const res = await fetch(`http://127.0.0.1:${frontendPort}/split?n=100`);
  if (!res.ok) throw new Error(`frontend answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, number>;
}

async function main(): Promise<void> {
  const [v1, v2] = await Promise.all(
    ['v1', 'v2'].map((version) =>
      start(`reviews ${version}`, [join(here, 'reviews.ts')], { VERSION: version, MESH_SERVICE_NAME: 'reviews' }, /listening (\d+)/),
    ),
  );
  const template = readFileSync(join(here, 'mesh.yaml'), 'utf8').replace('V1_PORT', v1![1]!).replace('V2_PORT', v2![1]!);
  writeConfig(template, [80, 20]);

  const [, cpPort] = await start(
    'control plane',
    [cli, 'control-plane', '--config', configFile, '--host', '127.0.0.1', '--port', '0', '--status-port', '0'],
    {},
    /xDS on 127\.0\.0\.1:(\d+)/,
  );
  console.log(`control plane on 127.0.0.1:${cpPort}`);

  const [, frontendPort] = await start(
    'frontend',
    [join(here, 'frontend.ts')],
    { MESH_SERVICE_NAME: 'frontend', MESH_XDS_SERVER: `127.0.0.1:${cpPort}`, MESH_XDS_LISTENERS: 'reviews:9080', MESH_XDS_NODE_ID: 'frontend' },
    /frontend listening (\d+)/,
  );
  const port = Number(frontendPort);

  console.log(`split 80/20: ${JSON.stringify(await split(port))}`);

  writeConfig(template, [20, 80]);
  console.log('edited mesh.yaml: weights 20/80');
  // The edit reaches the frontend within moments; poll until the split has moved.
  const deadline = Date.now() + 20_000;
  let after = await split(port);
  // 60 of 100 to v2 is far out of reach of the old 20 % and well within the new 80 %.
  const moved = (counts: Record<string, number>) => (counts.v2 ?? 0) >= 60;
  while (!moved(after) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    after = await split(port);
  }
  console.log(`split 20/80: ${JSON.stringify(after)}`);
  if (!moved(after)) throw new Error('the split did not follow the edit');
}

async function stopAll(): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          // A child that does not drain in time is stopped.
          setTimeout(() => child.kill('SIGKILL'), 3000).unref();
        }),
    ),
  );
  rmSync(work, { recursive: true, force: true });
}

try {
  await main();
  await stopAll();
  console.log('done');
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  await stopAll();
  process.exitCode = 1;
}
