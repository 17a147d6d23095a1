/**
 * Debian's real Prometheus scrapes the admin endpoint. Prometheus asks for
 * OpenMetrics first, so this also proves the text → OpenMetrics rewrite
 * parses in the scraper people actually run. Checked: names, labels and
 * values as recorded, and histogram_quantile over our buckets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type AdminServer, startAdminServer } from '../../src/admin/index.js';
import { type AdminFixture, adminFixture } from '../helpers/admin-fixture.js';

const PROMETHEUS = '/usr/bin/prometheus';
const HAVE_PROMETHEUS = existsSync(PROMETHEUS);
if (!HAVE_PROMETHEUS) console.warn(`prometheus interop skipped: ${PROMETHEUS} is absent (apt-get install prometheus)`);

/** Requests recorded once, before the first scrape, and never again: their counts are exact. */
const DETAILS = 7;
const RATINGS_OK = 5;
const RATINGS_503 = 3;

interface PromVector {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!HAVE_PROMETHEUS)(`Prometheus (${PROMETHEUS}) scraping /metrics`, () => {
  let f: AdminFixture;
  let admin: AdminServer;
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let traffic: NodeJS.Timeout | undefined;
  let log = '';
  let api = '';

  async function query(promql: string): Promise<PromVector> {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
    return (await res.json()) as PromVector;
  }

  beforeAll(async () => {
    f = adminFixture();
    for (let i = 0; i < DETAILS; i++) f.record({ service: 'details', durationMs: 3 });
    for (let i = 0; i < RATINGS_OK; i++) f.record({ service: 'ratings', durationMs: 20 });
    for (let i = 0; i < RATINGS_503; i++) f.record({ service: 'ratings', durationMs: 20, code: 503 });
    // Reviews keeps growing, so rate() sees increases; every one of them lands in (25, 50] ms.
    let n = 0;
    traffic = setInterval(() => {
      for (let i = 0; i < 5; i++) f.record({ service: 'reviews', durationMs: 26 + (n++ % 24) });
    }, 100);

    admin = await startAdminServer({ port: 0, source: f.source });
    dir = await mkdtemp(join(tmpdir(), 'proxyless-prom-'));
    const config = join(dir, 'prometheus.yml');
    await writeFile(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: proxyless',
        '    scrape_interval: 1s',
        '    scrape_timeout: 1s',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${admin.port}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const child = prometheus;
    // Ready when it says so (info log); an early exit fails the suite with its log.
    await new Promise<void>((resolve, reject) => {
      child.stderr?.on('data', (c: Buffer) => {
        log = (log + c.toString()).slice(-8000);
        if (log.includes('Server is ready to receive web requests')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`prometheus exited with ${code}:\n${log}`)));
      child.once('error', reject);
    });
  });

  afterAll(async () => {
    clearInterval(traffic);
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = once(prometheus, 'exit');
      prometheus.kill('SIGTERM');
      const timer = setTimeout(() => prometheus?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await admin?.close();
    f?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('the target is up and istio_requests_total carries the recorded names, labels and counts', async () => {
    const details = async () => (await query('istio_requests_total{destination_service_name="details"}')).data.result;
    await expect.poll(async () => (await details()).length, { timeout: 60_000, interval: 500 }).toBe(1);

    const targets = (await (await fetch(`${api}/api/v1/targets`)).json()) as {
      data: { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] };
    };
    expect(targets.data.activeTargets, log).toEqual([
      expect.objectContaining({ health: 'up', lastError: '', scrapeUrl: `http://127.0.0.1:${admin.port}/metrics` }),
    ]);

    const [series] = await details();
    expect(Number(series?.value[1])).toBe(DETAILS);
    expect(series?.metric).toEqual({
      __name__: 'istio_requests_total',
      job: 'proxyless',
      instance: `127.0.0.1:${admin.port}`,
      reporter: 'source',
      source_workload: 'productpage-v1',
      source_workload_namespace: 'bookinfo',
      source_principal: 'spiffe://cluster.local/ns/bookinfo/sa/productpage',
      source_app: 'productpage',
      source_version: 'v1',
      source_canonical_service: 'productpage',
      source_canonical_revision: 'v1',
      source_cluster: 'Kubernetes',
      destination_workload: 'details-v1',
      destination_workload_namespace: 'bookinfo',
      destination_principal: 'spiffe://cluster.local/ns/bookinfo/sa/details',
      destination_app: 'details',
      destination_version: 'v1',
      destination_service: 'details.bookinfo.svc.cluster.local',
      destination_service_name: 'details',
      destination_service_namespace: 'bookinfo',
      destination_canonical_service: 'details',
      destination_canonical_revision: 'v1',
      destination_cluster: 'Kubernetes',
      request_protocol: 'http',
      response_flags: '-',
      connection_security_policy: 'unknown',
      response_code: '200',
      // grpc_response_status is empty for HTTP, and Prometheus drops empty labels.
    });

    const ratings = (await query('sum by (response_code) (istio_requests_total{destination_service_name="ratings"})')).data.result;
    const byCode = Object.fromEntries(ratings.map((r) => [r.metric.response_code, Number(r.value[1])]));
    expect(byCode).toEqual({ '200': RATINGS_OK, '503': RATINGS_503 });

    const count = await query('sum(istio_request_duration_milliseconds_count{destination_service_name="ratings"})');
    expect(Number(count.data.result[0]?.value[1])).toBe(RATINGS_OK + RATINGS_503);
    const le5 = await query('istio_request_duration_milliseconds_bucket{destination_service_name="details",le="5"}');
    expect(Number(le5.data.result[0]?.value[1])).toBe(DETAILS);
  });

  test('Prometheus parsed the OpenMetrics answer: the counter family is named without _total', async () => {
    const metadata = async () => {
      const res = await fetch(`${api}/api/v1/metadata`);
      return ((await res.json()) as { data: Record<string, { type: string }[]> }).data;
    };
    // The text format would have named the family istio_requests_total.
    await expect.poll(async () => (await metadata()).istio_requests?.[0]?.type, { timeout: 30_000, interval: 500 }).toBe('counter');
    const all = await metadata();
    expect(all.istio_requests_total).toBeUndefined();
    expect(all.istio_request_duration_milliseconds?.[0]?.type).toBe('histogram');
  });

  test('histogram_quantile over the scraped buckets gives a latency in the recorded range', async () => {
    const p50 = async () => {
      const r = await query('histogram_quantile(0.5, sum(rate(istio_request_duration_milliseconds_bucket[1m])) by (le))');
      return Number(r.data.result[0]?.value[1]);
    };
    // Needs two scrapes with reviews traffic between them.
    await expect.poll(async () => Number.isFinite(await p50()), { timeout: 60_000, interval: 500 }).toBe(true);
    const value = await p50();
    expect(value).toBeGreaterThan(25);
    expect(value).toBeLessThanOrEqual(50);
  });
});
