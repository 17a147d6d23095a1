/**
 * One process of `bench/gc-modes.ts`: a closed loop at concurrency 50
 * against the replicas whose ports it is given, with raw undici.request,
 * mesh.request or the full stack (every routing and resilience layer on,
 * as the load bench's full-stack row), or mesh.request with telemetry off
 * (quiet) or fully on (otel: as proxyless/otel sets it up; otel-1pct: the
 * same sampling 1% of traces, Istio's default; otel-sdk: an application's
 * own SDK provider), or telemetry off with the caller sending a
 * traceparent of its own on every request (quiet-header: what carrying the
 * header costs undici and the mesh, without any tracing), warmed up, then
 * measured. Reports over IPC its CPU per
 * request and its GC pause per request (perf_hooks 'gc' entries): a process
 * in the pretenuring mode pauses ~10 times longer per request.
 *
 *   tsx bench/lib/gc-mode-client.ts <raw|mesh|full|quiet|quiet-header|otel|otel-1pct|otel-sdk> <port,port,…> <warmup> <measured>
 */
import { Pool, request } from 'undici';
import { createMesh } from '../../src/index.js';
import { droppingTracerProvider } from './dropping-tracer.js';
import { fullStack } from './full-stack.js';
import { measureLoop } from './process-loop.js';

const [side = 'raw', portList = '', warmArg = '150000', countArg = '60000'] = process.argv.slice(2);
if (!['raw', 'mesh', 'full', 'quiet', 'quiet-header', 'otel', 'otel-1pct', 'otel-sdk'].includes(side)) throw new Error(`gc-mode-client: unknown side ${side}`);
const addresses = portList.split(',').map((p) => `127.0.0.1:${p}`);
const pools = addresses.map((a) => new Pool(`http://${a}`));
// Round-robin on both mesh sides, as the raw loop does by hand: like for like.
const mesh =
  side === 'raw'
    ? undefined
    : createMesh({
        env: false,
        config: {
          services: {
            echo: { endpoints: addresses, loadBalancer: { policy: 'round-robin' }, ...(side === 'full' ? fullStack('/bench') : {}) },
          },
        },
        // quiet: telemetry off; otel, otel-sdk: metrics, and every span recorded (the load bench's mesh-quiet and mesh-otel rows);
        // otel-1pct: metrics, propagation always, 1% of traces recorded.
        ...(side.startsWith('quiet') ? { telemetry: { metrics: false, tracing: false } } : {}),
        ...(side.startsWith('otel')
          ? { telemetry: { metrics: true, tracing: { tracerProvider: (await droppingTracerProvider(side === 'otel-sdk' ? 'sdk' : 'proxyless', side === 'otel-1pct' ? 0.01 : undefined)) as never } } }
          : {}),
      });
await mesh?.ready();

/** A traceparent as the mesh would write one: the header alone, with nobody tracing. */
const HEADERS = side === 'quiet-header' ? { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } : undefined;

let next = 0;
async function once(): Promise<void> {
  if (mesh !== undefined) {
    const res = await mesh.request('http://echo/bench', HEADERS === undefined ? undefined : { headers: HEADERS });
    await res.body.arrayBuffer();
    return;
  }
  const k = next;
  next = k + 1 === pools.length ? 0 : k + 1;
  const res = await request(`http://${addresses[k]}/bench`, { dispatcher: pools[k]! });
  await res.body.arrayBuffer();
}

const reading = await measureLoop(once, Number(warmArg), Number(countArg));
process.send?.({ side, ...reading });
await mesh?.destroy();
await Promise.all(pools.map((p) => p.destroy()));
process.exit(0);
