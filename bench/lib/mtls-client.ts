/**
 * One client process of `bench/mtls.ts`: a closed loop at concurrency 50
 * against the https upstream on `port`, over TLS with the client
 * certificate in `dir` (the layout the mesh's files provider reads), then
 * measured (lib/process-loop.ts). Reports its reading over IPC.
 *
 *   raw   undici.request(url, { dispatcher: pool }): the target's baseline
 *   pool  pool.request({ path }): undici with no URL to parse, for scale
 *   mesh  mesh.request(url) with `tls: { mode: 'mutual' }`
 *
 *   tsx bench/lib/mtls-client.ts <raw|pool|mesh> <port> <dir> <warmup> <measured>
 */
import { Pool, request } from 'undici';
import { createMesh } from '../../src/index.js';
import { rawClientTls } from './mtls-certs.js';
import { measureLoop } from './process-loop.js';

const [side = 'raw', port = '', dir = '', warmArg = '20000', countArg = '40000'] = process.argv.slice(2);
const pool = new Pool(`https://127.0.0.1:${port}`, { connect: rawClientTls(dir) });
const mesh =
  side === 'mesh'
    ? createMesh({
        env: false,
        config: {
          mesh: { security: { certificates: { provider: 'files', dir } } },
          services: { upstream: { endpoints: [`127.0.0.1:${port}`], tls: { mode: 'mutual' } } },
        },
      })
    : undefined;
await mesh?.ready();

const url = `https://127.0.0.1:${port}/bench`;
const sends: Record<string, () => Promise<void>> = {
  raw: async () => {
    const res = await request(url, { dispatcher: pool });
    await res.body.arrayBuffer();
  },
  pool: async () => {
    const res = await pool.request({ method: 'GET', path: '/bench' });
    await res.body.arrayBuffer();
  },
  mesh: async () => {
    const res = await mesh!.request('http://upstream/bench');
    await res.body.arrayBuffer();
  },
};
const once = sends[side];
if (once === undefined) throw new Error(`mtls-client: unknown side ${side}`);
// Measured first: an optional call skips its arguments when there is no IPC channel, and the loop with them.
const reading = await measureLoop(once, Number(warmArg), Number(countArg));
process.send?.({ side, ...reading });
await mesh?.destroy();
await pool.destroy();
process.exit(0);
