/**
 * A Kubernetes Job that uses the mesh, run as a child process:
 *   node --import tsx test/integration/inbound-job-app.ts <port>
 * It sets up everything that could hold a process open (the inbound
 * pipeline with an event-loop monitor, the drain's signal handler, an
 * Express middleware, metrics, tracing, a watched config file), calls a
 * service once, prints the answer and ends without calling close(). It
 * must exit on its own: nothing of the mesh's may keep it alive.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMesh, meshExpress } from '../../src/index.js';

const port = process.argv[2];
const file = join(mkdtempSync(join(tmpdir(), 'proxyless-job-')), 'mesh.yaml');
writeFileSync(file, `services:\n  report-sink:\n    endpoints: ["127.0.0.1:${port}"]\n`);
const mesh = createMesh({
  env: false,
  configFile: file,
  config: { mesh: { serviceName: 'nightly-report', inbound: { maxEventLoopDelay: '200ms', maxConcurrentRequests: 10 } } },
});
await mesh.ready();
// An adapter and a (never listening) server attached: the pipeline, its monitor and the SIGTERM handler all exist.
meshExpress(mesh);
mesh.inbound.attach(createServer());
const res = await mesh.request('http://report-sink/upload', { method: 'POST', body: 'rows=42' });
console.log(`uploaded: ${res.statusCode} ${await res.body.text()}`);
console.log(`sigterm listeners: ${process.listenerCount('SIGTERM')}`);
