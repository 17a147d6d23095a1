/**
 * DNS rebinding guard for an admin server bound to loopback. A web page the
 * user opens could point its own hostname at 127.0.0.1 and then read
 * `/config_dump` as a same-origin request; the one thing it cannot choose
 * is the Host header, which carries its hostname. So on a loopback bind
 * only loopback names are served. A server bound elsewhere was exposed on
 * purpose and answers to any name.
 */
import { isIP } from 'node:net';

export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** The hostname of a Host header (`name`, `name:port`, `[v6]:port`), lower-cased. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** Whether a request with this Host header may be served by a server bound to `bindHost`. */
export function hostAllowed(bindHost: string, header: string | undefined): boolean {
  if (!isLoopbackHost(bindHost)) return true;
  // HTTP/1.0 clients may send no Host; a browser always sends one.
  if (header === undefined) return true;
  return isLoopbackHost(hostName(header));
}
