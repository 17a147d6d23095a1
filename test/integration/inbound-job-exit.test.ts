/**
 * A finished Job must end: sidecars famously keep Job pods running after
 * the work is done. A child process that uses the mesh (outbound calls,
 * the inbound pipeline with load shedding, the drain's signal handler, a
 * watched config file, metrics and tracing) and never calls close() must
 * exit by itself, with code 0.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';

const run = promisify(execFile);
let sink: Server;
beforeAll(async () => {
  sink = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += String(d);
    });
    req.on('end', () => res.end(`stored ${body}`));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
});
afterAll(() => {
  sink.closeAllConnections();
  sink.close();
});

test('a Job that used the mesh and never closed it exits on its own, with code 0', async () => {
  const { port } = sink.address() as AddressInfo;
  // execFile rejects on a non-zero exit and kills the child at the timeout: a hang fails here.
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'test/integration/inbound-job-app.ts', String(port)], {
    timeout: 15_000,
    env: { ...process.env, MESH_SERVICES: '', MESH_CONFIG_FILE: '' },
  });
  expect(stdout).toContain('uploaded: 200 stored rows=42');
  // The signal handler was installed, and still did not hold the process.
  expect(stdout).toContain('sigterm listeners: 1');
  expect(stderr).toBe('');
});
