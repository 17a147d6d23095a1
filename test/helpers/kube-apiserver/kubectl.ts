/**
 * Real kubectl against the fake API server: a kubeconfig in a temp dir
 * (server, CA, bearer token) and execFile (never a shell).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ADMIN_TOKEN, type FakeKubeApiServer } from './server.js';

export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

export interface KubectlResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** A kubeconfig for `server` in a fresh temp dir; `dispose()` removes it. */
export function writeKubeconfig(
  server: FakeKubeApiServer,
  options: { token?: string; namespace?: string } = {},
): { path: string; dir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-kubeconfig-'));
  const path = join(dir, 'config');
  const cluster: Record<string, unknown> = { server: server.url };
  if (server.ca !== undefined) cluster['certificate-authority-data'] = Buffer.from(server.ca).toString('base64');
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster }],
      users: [{ name: 'tester', user: { token: options.token ?? ADMIN_TOKEN } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'tester', namespace: options.namespace ?? 'default' } }],
      'current-context': 'fake',
    }),
  );
  return { path, dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Run kubectl with this kubeconfig; resolves with its output and exit code (never rejects on a non-zero exit). */
export function kubectl(kubeconfig: string, args: readonly string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      KUBECTL,
      ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args],
      // A private cache dir: discovery answers from another test's server must not leak in.
      { timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: join(kubeconfig, '..') } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
        if (err !== null && code === -1) reject(err);
        else resolve({ stdout, stderr, code });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}
