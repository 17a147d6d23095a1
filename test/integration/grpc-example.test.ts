/**
 * examples/grpc runs as a user would run it and prints what its comments
 * promise: balancing across two replicas, a replica gone with no failed
 * call, the caller's SPIFFE ID and deadline at the server, and the
 * client's Istio metrics labelled as gRPC.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);

test('examples/grpc: a mesh client calls two mesh server replicas over mTLS and survives one going away', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/grpc/main.ts'], {
    timeout: 30_000,
    env: { ...process.env, MESH_SERVICES: '', MESH_CONFIG_FILE: '', MESH_SERVICE_NAME: '' },
  });
  const lines = stdout.trim().split('\n');
  const gone = lines.indexOf('replica b is gone');
  expect(gone).toBe(4);
  const before = lines.slice(0, gone);
  const after = lines.slice(gone + 1, gone + 5);
  expect(before.map((l) => /apple@(\w)/.exec(l)?.[1]).sort()).toEqual(['a', 'a', 'b', 'b']);
  expect(after.map((l) => /apple@(\w)/.exec(l)?.[1])).toEqual(['a', 'a', 'a', 'a']);
  for (const line of [...before, ...after]) {
    expect(line).toContain('for spiffe://cluster.local/ns/shop/sa/frontend (deadline within 2000 ms)');
  }
  expect(lines).toContain('Reserve: pear@a for spiffe://cluster.local/ns/shop/sa/frontend (deadline within 2000 ms)');
  expect(lines).toContain('metric: istio_requests_total{reporter="source",request_protocol="grpc",grpc_response_status="0"} 9');
}, 40_000);
