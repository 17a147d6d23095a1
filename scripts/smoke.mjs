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
const help = execFileSync(process.execPath, ['dist/cli.js', 'help'], { encoding: 'utf8' });
if (!help.includes('demo')) throw new Error('CLI help is missing');
console.log('smoke: dist (and proxyless/otel) loads as ESM and CommonJS; CLI runs');
