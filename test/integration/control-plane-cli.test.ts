/**
 * `proxyless control-plane` as an operator runs it: a real process serving
 * a file, `control-plane status` reading it, SIGTERM ending it; and the
 * exit codes for bad input.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runControlPlaneCommand } from '../../src/control/cli.js';

function capture() {
  let stdout = '';
  let stderr = '';
  return {
    out: { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}

describe('proxyless control-plane (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-cp-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves a file, reports its status, logs at info by default (a blank MESH_LOG_LEVEL too), and exits 0 on SIGTERM', async () => {
    const file = join(dir, 'mesh.yaml');
    writeFileSync(file, 'services:\n  reviews:\n    port: 9080\n    endpoints: ["127.0.0.1:9080"]\n');
    // Blank counts as unset (docs/env.md): the control plane's own default, info, applies.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'control-plane', '--config', file, '--port', '0', '--status-port', '0'], {
      env: { ...process.env, MESH_LOG_LEVEL: '  ' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 60_000);
      child.stdout.on('data', () => {
        const m = /status on (http:\/\/[^/]+)\/status/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    try {
      const c = capture();
      expect(await runControlPlaneCommand(['status', '--url', url], c.out)).toBe(0);
      expect(c.stdout).toContain(`config ${file}: version 1`);
      expect(c.stdout).toMatch(/resources: LDS 8, RDS 1, CDS 1, EDS 1/);
      expect(c.stdout).toContain('0 clients connected');
      const dump = (await (await fetch(`${url}/config_dump`)).json()) as { resources: Record<string, Record<string, unknown>> };
      expect(Object.keys(dump.resources['type.googleapis.com/envoy.config.cluster.v3.Cluster']!)).toEqual([
        'outbound|9080||reviews.default.svc.cluster.local',
      ]);
    } finally {
      child.kill('SIGTERM');
    }
    // 'close': the process has exited and its stderr has been read to the end.
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    const logged = err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: string; message: string });
    expect(logged).toContainEqual(expect.objectContaining({ level: 'info', message: 'control plane serving' }));
  });

  it('exits 1 naming every problem when the file is invalid at start', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'services:\n  reviews:\n    endpoints: ["127.0.0.1:9080"]\n    loadBalancer: { policy: fastest }\n');
    const c = capture();
    expect(await runControlPlaneCommand(['--config', file, '--port', '0', '--status-port', '0'], c.out)).toBe(1);
    expect(c.stderr).toContain('services.reviews.loadBalancer.policy');
  });

  it('exits 2 on usage errors', async () => {
    const c = capture();
    expect(await runControlPlaneCommand(['--port', '0'], c.out)).toBe(2);
    expect(c.stderr).toContain('missing --config');
    const d = capture();
    expect(await runControlPlaneCommand(['--config', 'x.yaml', '--port', 'eighty'], d.out)).toBe(2);
    expect(d.stderr).toContain('--port must be a port');
    const e = capture();
    expect(await runControlPlaneCommand(['--config', 'x.yaml', '--ca-tokens', 't.yaml'], e.out)).toBe(2);
    expect(e.stderr).toContain('need --ca-dir');
  });
});
