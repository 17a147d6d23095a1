/**
 * The admin server under failure, over real sockets: a throwing source or
 * collector is a 500 and the server keeps serving; the DNS rebinding
 * guard; a registry already in OpenMetrics mode; start and close.
 */
import { createServer } from 'node:net';
import { Counter, type OpenMetricsContentType, Registry } from 'prom-client';
import { afterEach, expect, test } from 'vitest';
import type { AdminSource } from '../../../src/admin/admin-source.js';
import { type AdminServer, startAdminServer } from '../../../src/admin/index.js';
import { type AdminFixture, adminFixture, adminGet as get, quietLogger } from '../../helpers/admin-fixture.js';

const servers: AdminServer[] = [];
const fixtures: AdminFixture[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const f of fixtures.splice(0)) f.close();
});

async function start(source?: AdminSource, log = quietLogger()): Promise<{ server: AdminServer; f: AdminFixture; log: typeof log }> {
  const f = adminFixture();
  fixtures.push(f);
  const server = await startAdminServer({ port: 0, source: source ?? f.source, logger: log });
  servers.push(server);
  return { server, f, log };
}

test('a source that throws gets a 500 with a short message, and the server keeps serving', async () => {
  const f = adminFixture();
  fixtures.push(f);
  let broken = true;
  const source: AdminSource = {
    ...f.source,
    registry: f.source.registry,
    ready: () => f.source.ready(),
    configDump: () => {
      if (broken) throw new Error('config store closed\nwith a long stack');
      return f.source.configDump();
    },
    clusters: () => {
      if (broken) throw new TypeError('cannot read endpoints');
      return f.source.clusters();
    },
    configChanges: () => f.source.configChanges(),
  };
  const { server, log } = await start(source);
  expect(await get(server, '/config_dump')).toMatchObject({ status: 500, body: 'internal error: config store closed\n' });
  expect(await get(server, '/clusters')).toMatchObject({ status: 500, body: 'internal error: cannot read endpoints\n' });
  expect(await get(server, '/clusters?format=text')).toMatchObject({ status: 500 });
  expect((await get(server, '/dashboard/data')).status).toBe(500);
  expect(log.warnings[0]).toContain('admin: handler failed');
  expect(log.warnings[0]).toContain('/config_dump');

  expect((await get(server, '/healthz')).status).toBe(200);
  broken = false;
  expect((await get(server, '/clusters')).status).toBe(200);
  expect((await get(server, '/dashboard/data')).status).toBe(200);
});

test('a metric that fails to collect is a 500 from /metrics, not a crash', async () => {
  const registry = new Registry();
  new Counter({
    name: 'app_broken_total',
    help: 'Throws when collected.',
    registers: [registry],
    collect() {
      throw new Error('collector failed');
    },
  });
  const f = adminFixture();
  fixtures.push(f);
  const { server } = await start({ ...f.source, registry, ready: () => true, configDump: () => ({}), clusters: () => [], configChanges: () => [] });
  expect(await get(server, '/metrics')).toMatchObject({ status: 500, body: 'internal error: collector failed\n' });
  expect((await get(server, '/healthz')).status).toBe(200);
});

test('a registry already in OpenMetrics mode is served as it is', async () => {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  new Counter({ name: 'app_jobs_total', help: 'Jobs.', registers: [registry] }).inc(3);
  const { server } = await start({ registry, ready: () => true, configDump: () => ({}), clusters: () => [], configChanges: () => [] });
  const r = await get(server, '/metrics', { headers: { accept: 'text/plain' } });
  expect(r.headers['content-type']).toBe(Registry.OPENMETRICS_CONTENT_TYPE);
  expect(r.body).toContain('app_jobs_total 3\n# EOF\n');
});

test('on a loopback bind, requests naming another host are refused (DNS rebinding)', async () => {
  const { server } = await start();
  expect(await get(server, '/config_dump', { headers: { host: `attacker.example:${server.port}` } })).toMatchObject({ status: 403 });
  expect((await get(server, '/config_dump', { headers: { host: `localhost:${server.port}` } })).status).toBe(200);
  expect((await get(server, '/config_dump', { headers: { host: `[::1]:${server.port}` } })).status).toBe(200);
});

test('close() stops the server; a port in use is a rejected start', async () => {
  const { server, f } = await start();
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  await expect(startAdminServer({ port, source: f.source, logger: quietLogger() })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  await new Promise<void>((resolve) => blocker.close(() => resolve()));

  await get(server, '/healthz');
  await server.close();
  servers.splice(servers.indexOf(server), 1);
  await expect(get(server, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
});
