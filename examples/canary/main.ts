/**
 * A canary release: 90% of traffic to reviews v1, 10% to v2, one tester
 * (x-user: jason) always on v2, and one calling workload (the canary build
 * of productpage, labelled track: canary) always on v2. Both versions are
 * real HTTP servers in this process; the mesh picks between them by subset.
 *
 *   node --import tsx examples/canary/main.ts
 */

import { createMesh } from 'proxyless';
import { startReviews } from './backends.js';

const reviews = await startReviews();

/** The mesh of one calling workload, with its pod's labels. */
const meshFor = (labels: Record<string, string>) =>
  createMesh({
    env: false,
    config: {
      mesh: { labels },
      services: {
        reviews: {
          // Each endpoint carries a version label; the subsets select by it.
          endpoints: reviews.backends.map((b) => ({ address: '127.0.0.1', port: b.port, labels: { version: b.version } })),
          subsets: {
            v1: { labels: { version: 'v1' } },
            v2: { labels: { version: 'v2' } },
          },
          routes: [
            // First match wins: the tester's header route comes before the split.
            {
              name: 'tester',
              match: [{ headers: { 'x-user': { exact: 'jason' } } }],
              route: [{ destination: { subset: 'v2' } }],
            },
            // The canary build of the caller talks to the canary build of reviews. Settled
            // against mesh.labels when the routes are built: nothing is checked per request.
            {
              name: 'canary-caller',
              match: [{ sourceLabels: { app: 'productpage', track: 'canary' } }],
              route: [{ destination: { subset: 'v2' } }],
            },
            {
              name: 'canary',
              route: [
                { destination: { subset: 'v1' }, weight: 90 },
                { destination: { subset: 'v2' }, weight: 10 },
              ],
            },
          ],
        },
      },
    },
  });

const mesh = meshFor({ app: 'productpage', track: 'stable' });
await mesh.ready();

async function version(headers?: Record<string, string>): Promise<string> {
  const res = await mesh.request('http://reviews/reviews/1', headers ? { headers } : undefined);
  return res.body.text();
}

// 1,000 requests, 20 at a time.
const total = 1_000;
const counts = new Map<string, number>();
let sent = 0;
await Promise.all(
  Array.from({ length: 20 }, async () => {
    while (sent < total) {
      sent++;
      const v = await version();
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
  }),
);
for (const v of ['v1', 'v2']) {
  const n = counts.get(v) ?? 0;
  console.log(`split ${v}: ${n} of ${total} (${((n / total) * 100).toFixed(1)}%)`);
}

// The header route: jason sees v2 every time.
const jason = new Set<string>();
for (let i = 0; i < 20; i++) jason.add(await version({ 'x-user': 'jason' }));
console.log(`x-user: jason -> ${[...jason].join(', ')} (20 requests)`);

// Another workload: productpage's canary pods, labelled track: canary.
const canaryCaller = meshFor({ app: 'productpage', track: 'canary' });
await canaryCaller.ready();
const fromCanary = new Set<string>();
for (let i = 0; i < 20; i++) fromCanary.add(await (await canaryCaller.request('http://reviews/reviews/1')).body.text());
console.log(`caller track: canary -> ${[...fromCanary].join(', ')} (20 requests)`);

await canaryCaller.close();
await mesh.close();
reviews.close();
