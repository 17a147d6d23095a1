/**
 * The inbound server without TLS: one port, HTTP/1.1 and HTTP/2 prior
 * knowledge told apart by their first bytes, and a silent client closed.
 * The mTLS modes are in mtls.test.ts.
 */
import { createServer } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { type AddressInfo, connect } from 'node:net';
import { request } from 'undici';
import { afterEach, expect, test } from 'vitest';
import { createMeshServer, type MeshServer } from '../../src/server/index.js';
import { h2Get } from '../helpers/h2.js';

const servers: MeshServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

async function start(options: Parameters<typeof createMeshServer>[1]): Promise<number> {
  const server = createMeshServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`${req.httpVersion} ${req.method} ${req.url}`);
  }, options);
  servers.push(server);
  return (await server.listen(0, '127.0.0.1')).port;
}

test('DISABLE serves HTTP/1.1 plaintext', async () => {
  const port = await start({ mode: 'DISABLE' });
  const res = await request(`http://127.0.0.1:${port}/hello?x=1`);
  expect(await res.body.text()).toBe('1.1 GET /hello?x=1');
});

test('with http2, one plaintext port serves HTTP/1.1 and HTTP/2 prior knowledge', async () => {
  const port = await start({ mode: 'DISABLE', http2: true });
  const one = await request(`http://127.0.0.1:${port}/one`);
  expect(await one.body.text()).toBe('1.1 GET /one');

  const session = h2connect(`http://127.0.0.1:${port}`);
  // The server closing at teardown ends the session with GOAWAY; that is not this test's concern.
  session.on('error', () => {});
  try {
    const text = await h2Get(session, '/two');
    expect(text).toBe('2.0 GET /two');
  } finally {
    session.close();
  }
});

test('a client that connects and sends nothing is closed after the first-byte timeout', async () => {
  const port = await start({ mode: 'DISABLE', http2: true, firstByteTimeoutMs: 50 });
  const socket = connect(port, '127.0.0.1');
  const closed = await new Promise<boolean>((resolve) => {
    socket.on('close', () => resolve(true));
    socket.on('error', () => {});
  });
  expect(closed).toBe(true);
});

test('accepted connections have Nagle off (TCP_NODELAY), as on node\'s own HTTP server', async () => {
  // Node keeps whether setNoDelay(true) ran under an internal symbol and
  // has no getter for it; reading it is the one way to see the socket
  // option from inside the process. Both servers answer with it, so a
  // Node that renames it fails here loudly instead of passing.
  const noDelayOf = (socket: object): unknown => {
    const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetNoDelay');
    return key === undefined ? 'no kSetNoDelay symbol' : (socket as Record<symbol, unknown>)[key];
  };
  const seen: unknown[] = [];
  const server = createMeshServer((req, res) => {
    seen.push(noDelayOf(req.socket));
    res.end('ok');
  }, { mode: 'DISABLE' });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  await (await request(`http://127.0.0.1:${port}/`)).body.text();

  const plain = createServer((req, res) => {
    seen.push(noDelayOf(req.socket));
    res.end('ok');
  });
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  try {
    await (await request(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/`)).body.text();
  } finally {
    plain.closeAllConnections();
    plain.close();
  }
  expect(seen).toEqual([true, true]);
});

test('STRICT without a certificate source is refused with a clear error', () => {
  expect(() => createMeshServer(() => {}, { mode: 'STRICT' })).toThrow(/mTLS mode STRICT needs a workload certificate/);
});
