/**
 * The rotation acceptance: certificates rotate every second during 20 s of
 * load at concurrency 20, and no request fails.
 */
import { expect, test } from 'vitest';
import { runRotationLoad } from '../helpers/rotation-load.js';

test('rotating both sides every second for 20 s under load at concurrency 20 fails no request', async () => {
  const r = await runRotationLoad({ durationMs: 20_000, rotateEveryMs: 1_000, concurrency: 20 });
  console.log(
    `rotation soak: ${r.ok} ok, ${r.failed} failed, ${r.rotations} rotations, ${r.clientSerialsSeen} client certificates seen by the server`,
  );
  expect(r.errors).toEqual([]);
  expect(r.failed).toBe(0);
  expect(r.rotations).toBeGreaterThanOrEqual(18);
  expect(r.clientSerialsSeen).toBeGreaterThanOrEqual(10);
}, 60_000);
