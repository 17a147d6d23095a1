/**
 * What a `dns:` target path asks for: an IP literal, a host's A/AAAA records
 * on a port, or an SRV name. Parsed once per watch, with a reason when the
 * path cannot be used (reported as a config error by the mesh).
 */
import { isIP } from 'node:net';
import { DNS_NAME } from '../net/names.js';
import type { DiscoveryTarget } from './source.js';

export type DnsQuery =
  | { readonly kind: 'ip'; readonly address: string; readonly port: number }
  | { readonly kind: 'host'; readonly host: string; readonly port: number }
  | { readonly kind: 'srv'; readonly name: string };


/** Parse a target path, or say why it cannot be used. */
export function parseTarget(target: DiscoveryTarget): DnsQuery | string {
  let path = target.path;
  if (path.startsWith('//')) {
    const slash = path.indexOf('/', 2);
    const authority = slash < 0 ? path.slice(2) : path.slice(2, slash);
    if (slash < 0 || authority !== '') {
      return `names a DNS server authority ("${authority}"), which is not supported; write dns:host:port and set the provider's servers`;
    }
    path = path.slice(slash + 1);
  }
  if (path === '') return 'has no host name';
  if (path.startsWith('_')) {
    if (path.includes(':')) return `"${path}" is an SRV name, whose records carry the ports; remove ":port"`;
    if (!DNS_NAME.test(path)) return `"${path}" is not a DNS name`;
    return { kind: 'srv', name: path };
  }
  let host = path;
  let portText: string | undefined;
  if (path.startsWith('[')) {
    const close = path.indexOf(']');
    const rest = close < 0 ? '' : path.slice(close + 1);
    host = path.slice(1, close);
    if (close < 0 || isIP(host) !== 6 || (rest !== '' && !rest.startsWith(':'))) {
      return `"${path}" is not [IPv6]:port`;
    }
    portText = rest === '' ? undefined : rest.slice(1);
  } else if (isIP(path) !== 6) {
    const colon = path.lastIndexOf(':');
    if (colon >= 0) {
      host = path.slice(0, colon);
      portText = path.slice(colon + 1);
    }
    if (host.includes(':')) return `"${path}" is not host:port (write IPv6 addresses as [addr]:port)`;
    if (isIP(host) === 0 && !DNS_NAME.test(host)) return `"${host}" is not a DNS name or IP address`;
  }
  let port = target.defaultPort;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return `port "${portText}" is not a port from 1 to 65535`;
  }
  if (port === undefined) {
    return `"${host}" has no port: write dns:${host}:PORT, set the service's port, or use an SRV name (_service._proto.${host})`;
  }
  return isIP(host) === 0 ? { kind: 'host', host, port } : { kind: 'ip', address: host, port };
}

