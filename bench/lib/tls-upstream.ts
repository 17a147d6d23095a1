/**
 * The mTLS bench's upstream: an https server that requires a client
 * certificate from the mesh's CA and answers every request with 1 KiB.
 * Run as its own process by bench/mtls.ts (key, chain and bundle paths as
 * arguments); reports its port over IPC.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

const [cert, key, ca] = process.argv.slice(2).map((p) => readFileSync(p, 'utf8'));
const BODY = Buffer.alloc(1024, 'x');
const HEADERS = { 'content-type': 'application/octet-stream', 'content-length': String(BODY.length) };

const server = https.createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: true }, (_req, res) => {
  res.writeHead(200, HEADERS);
  res.end(BODY);
});
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
