/**
 * One client of `bench/instructions.ts`, run under callgrind: a closed loop
 * at concurrency 50 that stops between phases and waits for a line on
 * stdin, so the orchestrator can switch counting on, zero it and dump it
 * (a process blocked on its own I/O could not serve callgrind_control).
 *
 *   raw       undici.request(url) over three replicas, round-robin
 *   mesh      mesh.request(url), round-robin over the same replicas
 *   full      mesh.request(url) with lib/full-stack.ts's routes and resilience
 *   raw-tls   undici.request(url) over TLS with a client certificate
 *   mesh-tls  mesh.request(url) with `tls: { mode: 'mutual' }`
 *   quiet     mesh.request(url) with telemetry off (metrics and tracing)
 *   otel      mesh.request(url) with telemetry fully on: metrics, and every
 *             span recorded as proxyless/otel sets it up, dropped by the exporter
 *   otel-sdk  the same with an application's own BasicTracerProvider
 *
 *   tsx bench/lib/instr-client.ts <kind> <ports> <tls-port> <cert-dir> <warmup> <counted>
 */
import { createInterface } from 'node:readline';
import { Pool, request } from 'undici';
import { createMesh } from '../../src/index.js';
import { droppingTracerProvider } from './dropping-tracer.js';
import { fullStack } from './full-stack.js';
import { rawClientTls } from './mtls-certs.js';
import { runLoop } from './process-loop.js';

const [kind = 'raw', portList = '', tlsPort = '', certDir = '', warmArg = '20000', countArg = '3000'] = process.argv.slice(2);
const tls = kind.endsWith('-tls');
const origins = tls ? [`https://127.0.0.1:${tlsPort}`] : portList.split(',').map((p) => `http://127.0.0.1:${p}`);
const pools = origins.map((o) => new Pool(o, tls ? { connect: rawClientTls(certDir) } : {}));
const urls = origins.map((o) => `${o}/bench`);
const endpoints = origins.map((o) => o.replace(/^https?:\/\//, ''));
const mesh = kind.startsWith('mesh') || ['full', 'quiet', 'otel', 'otel-1pct', 'otel-sdk'].includes(kind)
  ? createMesh({
      env: false,
      config: {
        ...(tls ? { mesh: { security: { certificates: { provider: 'files', dir: certDir } } } } : {}),
        services: {
          upstream: {
            endpoints,
            loadBalancer: { policy: 'round-robin' },
            ...(tls ? { tls: { mode: 'mutual' } } : {}),
            ...(kind === 'full' ? fullStack('/bench') : {}),
          },
        },
      },
      ...(kind === 'quiet' ? { telemetry: { metrics: false, tracing: false } } : {}),
      ...(kind.startsWith('otel')
        ? { telemetry: { metrics: true, tracing: { tracerProvider: (await droppingTracerProvider(kind === 'otel-sdk' ? 'sdk' : 'proxyless', kind === 'otel-1pct' ? 0.01 : undefined)) as never } } }
        : {}),
    })
  : undefined;
await mesh?.ready();

let next = 0;
async function once(): Promise<void> {
  let status: number;
  if (mesh !== undefined) {
    const res = await mesh.request('http://upstream/bench');
    status = res.statusCode;
    await res.body.arrayBuffer();
  } else {
    const k = next;
    next = k + 1 === pools.length ? 0 : k + 1;
    const res = await request(urls[k]!, { dispatcher: pools[k]! });
    status = res.statusCode;
    await res.body.arrayBuffer();
  }
  // A failing request costs less than a served one: a count over failures would flatter the client.
  if (status !== 200) throw new Error(`instr-client ${kind}: status ${status}`);
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function phase(name: string): Promise<void> {
  process.stdout.write(`${name}\n`);
  await lines.next();
}

await runLoop(once, Number(warmArg));
await phase('warm');
await runLoop(once, 300);
await phase('zero');
await runLoop(once, Number(countArg));
await phase('dump');
await mesh?.destroy();
await Promise.all(pools.map((p) => p.destroy()));
process.exit(0);
