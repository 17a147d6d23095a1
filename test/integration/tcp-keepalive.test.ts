/**
 * connectionPool.tcpKeepalive.time reaches the kernel: the mesh's idle
 * connection to a real server carries a keepalive timer that fires after
 * the configured time, not undici's 60 s. Read from /proc/net/tcp, where
 * Linux lists each socket's pending timer (kind 2 is keepalive) and the
 * clock ticks (1/100 s) until it fires.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { createMesh, type Mesh } from '../../src/index.js';

const servers: Server[] = [];
const meshes: Mesh[] = [];

afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

/** A server that remembers the client port of each connection. */
async function server(): Promise<{ port: number; clientPorts: number[] }> {
  const clientPorts: number[] = [];
  const s = createServer((req, res) => {
    clientPorts.push(req.socket.remotePort!);
    res.end('ok');
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  servers.push(s);
  return { port: (s.address() as AddressInfo).port, clientPorts };
}

/** The keepalive timer of the IPv4 socket bound to local `port`: ticks (1/100 s) until it fires. */
function keepaliveTicks(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1]?.endsWith(`:${hexPort}`) !== true) continue;
    const [kind, when] = cols[5]!.split(':');
    if (kind === '02') return Number.parseInt(when!, 16);
  }
  return undefined;
}

test.runIf(process.platform === 'linux')('tcpKeepalive.time sets when an idle connection is first probed; without it undici keeps 60 s', async () => {
  const tuned = await server();
  const plain = await server();
  const m = createMesh({
    env: false,
    config: {
      services: {
        tuned: { endpoints: [{ address: '127.0.0.1', port: tuned.port }], connectionPool: { tcpKeepalive: { time: '7s' } } },
        plain: { endpoints: [{ address: '127.0.0.1', port: plain.port }] },
      },
    },
  });
  meshes.push(m);
  await (await m.request('http://tuned/')).body.text();
  await (await m.request('http://plain/')).body.text();

  const tunedTicks = keepaliveTicks(tuned.clientPorts[0]!);
  const plainTicks = keepaliveTicks(plain.clientPorts[0]!);
  expect(tunedTicks).toBeGreaterThan(500);
  expect(tunedTicks).toBeLessThanOrEqual(700);
  expect(plainTicks).toBeGreaterThan(5_000);
  expect(plainTicks).toBeLessThanOrEqual(6_000);
});
