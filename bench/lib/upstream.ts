/**
 * One upstream replica for the load bench: a plain `node:http` server on
 * 127.0.0.1 (port chosen by the OS) that answers every request with a 1 KiB
 * body over keep-alive. Run as its own process by bench/run.ts; it reports its
 * port over IPC and exits when the orchestrator goes away.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { UpstreamMessage, UpstreamRequest } from './types.js';

const BODY = Buffer.alloc(1024, 'x');
const HEADERS = { 'content-type': 'application/octet-stream', 'content-length': String(BODY.length) };

let requests = 0;

const server = http.createServer((req, res) => {
  requests++;
  // GETs carry no body; anything else is drained so keep-alive survives.
  if (req.method !== 'GET' && req.method !== 'HEAD') req.resume();
  res.writeHead(200, HEADERS);
  res.end(BODY);
});
// Proxies keep idle upstream connections for a while; outlive them so a
// proxy never reuses a connection the server is closing (a spurious 502).
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;

function send(message: UpstreamMessage): void {
  process.send?.(message);
}

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  send({ type: 'ready', port, node: process.version });
});

process.on('message', (message: UpstreamRequest) => {
  if (message.type === 'count') send({ type: 'count', requests });
});
// The orchestrator died or closed the channel: nothing is left to serve.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
