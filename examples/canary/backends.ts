// Two versions of a "reviews" service, for the canary example to route between.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Backend {
  readonly version: string;
  readonly port: number;
}

export async function startReviews(): Promise<{ backends: Backend[]; close: () => void }> {
  const servers: Server[] = [];
  const backends: Backend[] = [];
  for (const version of ['v1', 'v2']) {
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(version);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    backends.push({ version, port: (server.address() as AddressInfo).port });
  }
  return {
    backends,
    close: () => {
      for (const s of servers) {
        s.closeAllConnections();
        s.close();
      }
    },
  };
}
