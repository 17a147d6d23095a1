/** The gRPC server examples run for real (tsx, as a user would run them) and show what they claim. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);

async function example(path: string): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path], {
    timeout: 30_000,
    env: { ...process.env, MESH_SERVICES: '', MESH_CONFIG_FILE: '' },
  });
  return stdout.trim().split('\n');
}

test('examples/grpc-server: decorators cap the deadline, rate-limit and authorize; metrics carry grpc_response_status', async () => {
  const lines = await example('examples/grpc-server/main.ts');
  expect(lines[0]).toMatch(/^inventory serving gRPC on 127\.0\.0\.1:\d+ as spiffe:\/\/cluster\.local\/ns\/shop\/sa\/inventory$/);
  for (const n of [1, 2, 3]) {
    expect(lines).toContain(`GetItem #${n}: apple stock=12, caller plaintext (no identity), handler deadline within 1000 ms`);
  }
  expect(lines).toContain('GetItem #4: RESOURCE_EXHAUSTED: the rate limit of /shop.Inventory/GetItem has no token for this call');
  expect(lines).toContain('Reserve: PERMISSION_DENIED: denied by @Authorize on /shop.Inventory/Reserve');
  expect(lines).toContain('metric: istio_requests_total{reporter="destination",grpc_response_status="0"} 3');
  expect(lines).toContain('metric: istio_requests_total{reporter="destination",grpc_response_status="8"} 1');
  expect(lines).toContain('metric: istio_requests_total{reporter="destination",grpc_response_status="7"} 1');
});

test('examples/nest-grpc: a NestJS gRPC microservice on the mesh honours the decorators on its controller', async () => {
  const lines = await example('examples/nest-grpc/main.ts');
  expect(lines[0]).toMatch(/^heroes \(NestJS\) serving gRPC on 127\.0\.0\.1:\d+ as spiffe:\/\/cluster\.local\/ns\/shop\/sa\/heroes$/);
  expect(lines).toContain('FindOne #1: 1 Ada, caller plaintext (no identity), handler deadline within 800 ms');
  expect(lines).toContain('FindOne #2: 1 Ada, caller plaintext (no identity), handler deadline within 800 ms');
  expect(lines).toContain('FindOne #3: RESOURCE_EXHAUSTED: the rate limit of /hero.HeroesService/FindOne has no token for this call');
  expect(lines).toContain('Rename: PERMISSION_DENIED: denied by @Authorize on /hero.HeroesService/Rename');
});
