// A replica in its own process, so a test can SIGKILL it like a crash: no
// goodbye, its sockets just die. Answers its name; reports its port over IPC.
import { createServer } from 'node:http';

const name = process.argv[2] ?? 'replica';
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(name);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('disconnect', () => process.exit(0));
