/**
 * Real HTTP(S) servers on port 0 that answer with their own name and record
 * what they saw (Host header, path), for asserting where requests went.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Seen {
  host: string | undefined;
  path: string | undefined;
  method: string | undefined;
}

export interface EchoServer {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  readonly seen: Seen[];
  /** Hold responses until released (for in-flight tests). */
  hold(): () => void;
  close(): Promise<void>;
}

export async function startEcho(name: string, tls?: ServerOptions): Promise<EchoServer> {
  const seen: Seen[] = [];
  let gate: Promise<void> | undefined;
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ host: req.headers.host, path: req.url, method: req.method });
    if (gate) await gate;
    const body = JSON.stringify({ name, host: req.headers.host, path: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server: Server = tls ? createTlsServer(tls, handler) : createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    seen,
    hold() {
      let release!: () => void;
      gate = new Promise((r) => {
        release = r;
      });
      return () => {
        gate = undefined;
        release();
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export async function startEchos(count: number, prefix = 'r'): Promise<EchoServer[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => startEcho(`${prefix}${i}`)));
}

/** A port nothing listens on (bound then released). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
