/** One HTTP/2 GET on a session, read whole as text. */
import type { ClientHttp2Session } from 'node:http2';

export function h2Get(session: ClientHttp2Session, path: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const stream = session.request({ ':path': path, ':method': 'GET' });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => {
      body += c;
    });
    stream.on('end', () => resolve(body));
    stream.on('error', reject);
    stream.end();
  });
}
