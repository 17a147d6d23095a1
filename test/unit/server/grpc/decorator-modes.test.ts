/**
 * The handler decorators as syntax, compiled both ways TypeScript can:
 * standard (TC39) decorators with the repository's tsconfig, and
 * `experimentalDecorators` (NestJS) with legacy/tsconfig.json. Each runs in
 * a child process under tsx (esbuild, which honours the tsconfig it is
 * given), behind a real mesh gRPC server called by a real grpc-js client.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

async function probe(file: string, tsconfig?: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', here(file)], {
    timeout: 30_000,
    env: { ...process.env, MESH_SERVICES: '', MESH_CONFIG_FILE: '', ...(tsconfig === undefined ? {} : { TSX_TSCONFIG_PATH: here(tsconfig) }) },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

const HONOURED = {
  // @RateLimit({ maxTokens: 2 }): the third call finds the bucket empty (RESOURCE_EXHAUSTED).
  limited: [0, 0, 8],
  // @Authorize({ principals: [...] }) refuses a plaintext caller (PERMISSION_DENIED).
  guarded: 7,
  // @Idempotent() on Limited only.
  idempotent: [true, false],
};

function expectHonoured(result: Record<string, unknown>): void {
  expect(result).toMatchObject(HONOURED);
  // @Timeout(100) on the method caps the handler's deadline; @Timeout(5000) on the class applies to the rest.
  const capped = result.capped as { budget: number; seen: boolean };
  const open = result.open as { budget: number; seen: boolean };
  expect(capped.seen).toBe(true);
  expect(capped.budget).toBeGreaterThan(0);
  expect(capped.budget).toBeLessThanOrEqual(100);
  expect(open.budget).toBeGreaterThan(100);
  expect(open.budget).toBeLessThanOrEqual(5_000);
}

test('standard (TC39) decorators are honoured', async () => {
  const result = await probe('./standard-handlers.ts');
  expect(result.mode).toBe('standard');
  expectHonoured(result);
});

test('experimentalDecorators (as NestJS compiles) are honoured', async () => {
  const result = await probe('./legacy/legacy-handlers.ts', './legacy/tsconfig.json');
  expect(result.mode).toBe('legacy');
  expectHonoured(result);
});
