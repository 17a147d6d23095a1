// Stand-in backends for the resilience example: one flaky, one slow, one broken.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Backend {
  readonly address: string;
  /** Requests that reached the server (reset ones included). */
  readonly requests: number;
  /** The x-mesh-timeout-ms header of the last request, if it had one. */
  readonly lastBudget: string | undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

const servers: Server[] = [];

async function start(handler: Handler): Promise<Backend> {
  let requests = 0;
  let lastBudget: string | undefined;
  const server = createServer((req, res) => {
    const n = requests++;
    lastBudget = req.headers['x-mesh-timeout-ms'] as string | undefined;
    // Read the body first, so a reset happens after the whole request arrived.
    req.resume();
    req.on('end', () => handler(req, res, n));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    address,
    get requests() {
      return requests;
    },
    get lastBudget() {
      return lastBudget;
    },
  };
}

/** Drops the connection without answering on every other request (the 1st, 3rd, 5th, ...). */
export function startFlaky(): Promise<Backend> {
  return start((req, res, n) => {
    if (n % 2 === 0) req.socket.destroy();
    else res.end('ok');
  });
}

/** Never answers; the connection stays open until the caller gives up. */
export function startSlow(): Promise<Backend> {
  return start(() => {});
}

/** Answers every request with a 500. */
export function startBroken(): Promise<Backend> {
  return start((_req, res) => {
    res.writeHead(500);
    res.end('inventory database unavailable');
  });
}

export function closeAll(): void {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
}
