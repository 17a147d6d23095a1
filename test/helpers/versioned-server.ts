/**
 * Real HTTP servers on port 0 for routing and resilience tests: each knows
 * its name and version label, records every request it sees (headers
 * included), and can be told how to answer (status, delay, reset).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export type Behaviour = (req: IncomingMessage, res: ServerResponse, n: number) => void | Promise<void>;

export interface TestServer {
  readonly name: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  behave(b: Behaviour | undefined): void;
  endpoint(labels?: Record<string, string>): { address: string; port: number; labels?: Record<string, string> };
  close(): Promise<void>;
}

const servers: TestServer[] = [];

/** Answers 200 with its name unless a behaviour says otherwise. */
export async function startServer(name: string, behaviour?: Behaviour): Promise<TestServer> {
  const seen: SeenRequest[] = [];
  let behave = behaviour;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const n = seen.length;
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
    if (behave !== undefined) {
      await behave(req, res, n);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': name });
    res.end(name);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const s: TestServer = {
    name,
    port,
    seen,
    behave(b) {
      behave = b;
    },
    endpoint(labels) {
      return { address: '127.0.0.1', port, ...(labels ? { labels } : {}) };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  servers.push(s);
  return s;
}

export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.close()));
}

/** Answer with a status (and optional headers). */
export function status(code: number, headers: Record<string, string> = {}): Behaviour {
  return (_req, res) => {
    res.writeHead(code, headers);
    res.end(String(code));
  };
}

/** Destroy the socket without answering: a reset before any response byte. */
export const reset: Behaviour = (req) => {
  req.socket.destroy();
};
