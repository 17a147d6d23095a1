// Loads the built package both ways, as a user's project would.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';

const require = createRequire(import.meta.url);
const cjs = require('../dist/index.cjs');
const esm = await import('../dist/index.js');
for (const [kind, mod] of [['cjs', cjs], ['esm', esm]]) {
  for (const name of ['createMesh', 'meshFetch', 'MeshError', 'isMeshError']) {
    if (typeof mod[name] !== 'function') throw new Error(`${kind} build lacks ${name}`);
  }
}
// The brand works across the two copies: an error from one is recognised by the other.
if (!esm.isMeshError(new cjs.MeshError('MESH_CLOSED', 'x'))) throw new Error('isMeshError fails across copies');
// The optional OpenTelemetry entry point loads both ways too.
const otelCjs = require('../dist/otel.cjs');
const otelEsm = await import('../dist/otel.js');
for (const [kind, mod] of [['cjs', otelCjs], ['esm', otelEsm]]) {
  if (typeof mod.startOtel !== 'function') throw new Error(`${kind} proxyless/otel lacks startOtel`);
}
// The mesh's spans reach proxyless/otel's recorder as the mesh built them: the recorder knows the
// mesh's attribute records (by a registered symbol) whichever build and entry point made them.
const { createServer } = await import('node:http');
const { InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
const server = createServer((_req, res) => res.end('ok'));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const upstream = `127.0.0.1:${server.address().port}`;
for (const [kind, core, otel] of [['esm', esm, otelEsm], ['cjs', cjs, otelCjs], ['esm core, cjs otel', esm, otelCjs]]) {
  const exporter = new InMemorySpanExporter();
  // The call's span ends when the mesh has seen the response end, which may come after the body
  // has been read: wait for it (5 s at most) rather than for a number of turns of the loop.
  let clientEnded;
  const ended = new Promise((resolve) => {
    clientEnded = resolve;
  });
  const onEnd = { onStart() {}, onEnd: (s) => s.kind === 2 && clientEnded(), forceFlush: async () => {}, shutdown: async () => {} };
  const tracerProvider = otel.createOtelProvider({ spanProcessors: [new SimpleSpanProcessor(exporter), onEnd] });
  const mesh = core.createMesh({ env: false, config: { services: { up: { endpoints: [upstream] } } }, telemetry: { metrics: false, tracing: { tracerProvider } } });
  await (await mesh.request('http://up/')).body.dump();
  let timer;
  await Promise.race([ended, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
  clearTimeout(timer);
  // The span processor exports once the resource's detectors have answered.
  await tracerProvider.forceFlush();
  await mesh.close();
  const span = exporter.getFinishedSpans().find((s) => s.kind === 2);
  if (span === undefined) throw new Error(`${kind}: no client span exported within 5 s`);
  if (Object.getPrototypeOf(span.attributes)[Symbol.for('proxyless.meshSpanAttributes')] !== true) {
    throw new Error(`${kind}: the recorder copied the mesh's attribute record instead of keeping it`);
  }
}
server.close();
const help = execFileSync(process.execPath, ['dist/cli.js', 'help'], { encoding: 'utf8' });
if (!help.includes('demo')) throw new Error('CLI help is missing');
console.log("smoke: dist (and proxyless/otel) loads as ESM and CommonJS; the recorder keeps the mesh's records across builds; CLI runs");
