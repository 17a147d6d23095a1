// Two stand-in replicas of a "catalog" service, for the example to call.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startCatalogReplicas(): Promise<{ addresses: string[]; close: () => void }> {
  const servers: Server[] = [];
  for (const name of ['catalog-1', 'catalog-2']) {
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ replica: name, host: req.headers.host, path: req.url }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
  }
  return {
    addresses: servers.map((s) => `127.0.0.1:${(s.address() as AddressInfo).port}`),
    close: () => {
      for (const s of servers) {
        s.closeAllConnections();
        s.close();
      }
    },
  };
}
