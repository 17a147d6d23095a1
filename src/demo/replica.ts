/**
 * One demo replica: a plain node:http server on a free port that says who
 * answered. Runs as a child process so the demo can SIGKILL it like a crash.
 */
import { createServer } from 'node:http';

export function runReplica(name: string): void {
  const body = (path: string) => `${JSON.stringify({ replica: name, path })}\n`;
  const server = createServer((req, res) => {
    const text = body(req.url ?? '/');
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.send?.({ ready: true, port });
  });
  process.on('disconnect', () => process.exit(0));
}
