/**
 * Certificates rotate under load and no request fails. The 20-second
 * version the acceptance asks for runs in the interop suite
 * (test/interop/mtls-rotation.soak.test.ts); this one is short.
 */
import { expect, test } from 'vitest';
import { runRotationLoad } from '../helpers/rotation-load.js';

test('rotating both sides every 500 ms for 3 s under load at concurrency 20 fails no request', async () => {
  const r = await runRotationLoad({ durationMs: 3_000, rotateEveryMs: 500, concurrency: 20 });
  expect(r.errors).toEqual([]);
  expect(r.failed).toBe(0);
  expect(r.ok).toBeGreaterThan(100);
  expect(r.rotations).toBeGreaterThanOrEqual(4);
  // New connections picked up new client certificates.
  expect(r.clientSerialsSeen).toBeGreaterThanOrEqual(3);
}, 30_000);
