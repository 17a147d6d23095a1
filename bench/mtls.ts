/**
 * `npm run bench:mtls`: mesh.request over mTLS against raw undici.request
 * over TLS with the same certificates, to one https upstream that requires
 * a client certificate. Closed loop at concurrency 50; the two clients take
 * turns round after round in this process, so drift hits both alike.
 * Prints req/s, client CPU per request and the ratio with a 90% interval.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { createMesh } from '../src/index.js';
import { CertificateAuthority } from '../src/security/certs/ca.js';
import { nextMessage, spawnNode } from './lib/children.js';
import { applyBenchNodeFlags, describeNodeFlags } from './lib/node-flags.js';
import { bootstrap, median } from './lib/report.js';
import { markdownTable, num, ratio, signed } from './lib/table.js';

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const ROUND_MS = Number(process.env.ROUND_MS ?? 3000);
const WARMUP_MS = 1000;
const CONCURRENCY = 50;

type Send = () => Promise<unknown>;

async function closedLoop(send: Send, ms: number): Promise<{ rps: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const stopAt = start + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < stopAt) {
        await send();
        done++;
      }
    }),
  );
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { rps: (done * 1000) / elapsed, cpuUs: (used.user + used.system) / done };
}

// Both clients run here.
applyBenchNodeFlags();
const dir = mkdtempSync(join(tmpdir(), 'proxyless-bench-mtls-'));
try {
  const ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
  const server = await ca.issue({ spiffeId: 'spiffe://cluster.local/ns/default/sa/upstream' });
  const client = await ca.issue({ spiffeId: 'spiffe://cluster.local/ns/default/sa/bench' });
  const bundle = ca.trustBundlePems.join('');
  writeFileSync(join(dir, 'server.pem'), server.chainPem);
  writeFileSync(join(dir, 'server-key.pem'), server.keyPem);
  writeFileSync(join(dir, 'ca.pem'), bundle);
  mkdirSync(join(dir, 'client'));
  writeFileSync(join(dir, 'client', 'cert-chain.pem'), client.chainPem);
  writeFileSync(join(dir, 'client', 'key.pem'), client.keyPem);
  writeFileSync(join(dir, 'client', 'root-cert.pem'), bundle);

  const upstream = spawnNode(fileURLToPath(new URL('./lib/tls-upstream.ts', import.meta.url)), [
    join(dir, 'server.pem'),
    join(dir, 'server-key.pem'),
    join(dir, 'ca.pem'),
  ]);
  const first = await nextMessage<{ port: number }>(upstream, 15_000);
  if ('gone' in first) throw new Error(`tls upstream did not start: ${first.gone}`);
  const port = first.message.port;

  // Raw: undici's own TLS with the same client certificate; no hostname check
  // (the certificate names a SPIFFE ID, not 127.0.0.1), as the mesh does.
  const pool = new Pool(`https://127.0.0.1:${port}`, {
    connect: { ca: bundle, cert: client.chainPem, key: client.keyPem, checkServerIdentity: () => undefined },
  });
  const raw: Send = async () => {
    const res = await pool.request({ method: 'GET', path: '/bench' });
    await res.body.arrayBuffer();
  };
  const mesh = createMesh({
    env: false,
    config: {
      mesh: { security: { certificates: { provider: 'files', dir: join(dir, 'client') } } },
      services: { upstream: { endpoints: [`127.0.0.1:${port}`], tls: { mode: 'mutual' } } },
    },
  });
  await mesh.ready();
  const meshed: Send = async () => {
    const res = await mesh.request('http://upstream/bench');
    await res.body.arrayBuffer();
  };

  await closedLoop(raw, WARMUP_MS);
  await closedLoop(meshed, WARMUP_MS);
  const rows = { raw: [] as { rps: number; cpuUs: number }[], mesh: [] as { rps: number; cpuUs: number }[] };
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate who goes first, so neither always runs on a warmer machine.
    const order: Array<['raw' | 'mesh', Send]> = r % 2 === 0 ? [['raw', raw], ['mesh', meshed]] : [['mesh', meshed], ['raw', raw]];
    for (const [name, send] of order) rows[name].push(await closedLoop(send, ROUND_MS));
    process.stderr.write(`round ${r + 1}/${ROUNDS}\n`);
  }
  await mesh.close();
  await pool.close();
  upstream.kill();

  const rps = (k: 'raw' | 'mesh') => rows[k].map((x) => x.rps);
  const cpu = (k: 'raw' | 'mesh') => rows[k].map((x) => x.cpuUs);
  const [lo, hi] = bootstrap([rps('mesh'), rps('raw')], ([m, r]) => median(m!) / median(r!));
  const [clo, chi] = bootstrap([cpu('mesh'), cpu('raw')], ([m, r]) => median(m!) - median(r!));
  console.log(`Node ${process.version}, ${ROUNDS} alternating rounds of ${ROUND_MS} ms, concurrency ${CONCURRENCY}, 1 KiB responses, mTLS (RSA 2048, TLS 1.3), ${describeNodeFlags()}\n`);
  console.log(
    markdownTable(
      ['row', 'req/s (median)', 'client CPU µs/req', '× raw', '90% interval', 'added CPU µs (90% interval)'],
      [
        ['raw undici.request over TLS', num(median(rps('raw'))), num(median(cpu('raw')), 1), '1.00×', '', '0'],
        [
          'mesh.request, mTLS',
          num(median(rps('mesh'))),
          num(median(cpu('mesh')), 1),
          ratio(median(rps('mesh')) / median(rps('raw'))),
          `${ratio(lo)} … ${ratio(hi)}`,
          `${signed(median(cpu('mesh')) - median(cpu('raw')))} (${signed(clo)} … ${signed(chi)})`,
        ],
      ],
      ['left', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
