/**
 * examples/control-plane runs as a user would run it: the control plane,
 * two reviews instances and a frontend in their own processes, a weighted
 * split that follows an edit of the YAML file, and a clean exit.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);

function counts(line: string | undefined): Record<string, number> {
  expect(line).toBeDefined();
  return JSON.parse(line!.slice(line!.indexOf('{'))) as Record<string, number>;
}

test('examples/control-plane routes an 80/20 split through xDS and follows the edit to 20/80', async () => {
  // execFile rejects on a non-zero exit, so reaching the assertions means it exited 0.
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/control-plane/run.ts'], { timeout: 90_000 });
  const lines = stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^control plane on 127\.0\.0\.1:\d+$/);
  const before = counts(lines.find((l) => l.startsWith('split 80/20:')));
  const after = counts(lines.find((l) => l.startsWith('split 20/80:')));
  expect((before.v1 ?? 0) + (before.v2 ?? 0)).toBe(100);
  // 100 draws at 80 % v1: fewer than 60 is beyond any plausible chance.
  expect(before.v1).toBeGreaterThanOrEqual(60);
  expect(after.v2).toBeGreaterThanOrEqual(60);
  expect(lines).toContain('edited mesh.yaml: weights 20/80');
  expect(lines.at(-1)).toBe('done');
}, 120_000);
