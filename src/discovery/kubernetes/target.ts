/**
 * What a `k8s:` target path asks for: a Service in a namespace, and which of
 * its ports. Accepted forms (the `//` of gRPC's `kubernetes:///` spelling
 * may lead):
 * - `reviews`                          namespace and port from the service config;
 * - `reviews:http` / `reviews:9080`    a Service port name, or a port number;
 * - `reviews.bookinfo:http`            in namespace bookinfo;
 * - `reviews.bookinfo.svc[.cluster.local]:http`  the in-cluster DNS name.
 * A port number means a Service port (80), resolved to the endpoints' port
 * (targetPort 8080) through the Service; a name is a Service port name or a
 * container port name that a Service port targets.
 */
import type { DiscoveryTarget } from '../source.js';

export type PortSelector =
  | { readonly kind: 'number'; readonly port: number }
  | { readonly kind: 'name'; readonly name: string }
  /** No port given: the Service's only port. */
  | { readonly kind: 'only' };

export interface KubeTarget {
  readonly service: string;
  readonly namespace: string;
  readonly port: PortSelector;
}

/** RFC 1035 label: what Kubernetes requires of Service names. */
const SERVICE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** RFC 1123 label: namespace names. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** IANA service name, as Kubernetes port names are (at most 15 characters, one letter at least). */
const PORT_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Parse a target, or say why it cannot be used. */
export function parseKubeTarget(target: DiscoveryTarget): KubeTarget | string {
  let path = target.path;
  if (path.startsWith('//')) {
    const slash = path.indexOf('/', 2);
    const authority = slash < 0 ? path.slice(2) : path.slice(2, slash);
    if (slash < 0 || authority !== '') return `names an authority ("${authority}"), which is not supported; write k8s:service.namespace:port`;
    path = path.slice(slash + 1);
  }
  if (path === '') return 'has no Service name; write k8s:service[.namespace][:port]';
  const colon = path.indexOf(':');
  const host = colon < 0 ? path : path.slice(0, colon);
  const portText = colon < 0 ? undefined : path.slice(colon + 1);
  const labels = host.split('.');
  // `name.ns.svc` and `name.ns.svc.<cluster domain>` are the Service's DNS names.
  if (labels.length >= 3 && labels[2] !== 'svc') return `"${host}" is not service, service.namespace or service.namespace.svc[.domain]`;
  const [service = '', namespace = target.namespace] = labels;
  if (!SERVICE_NAME.test(service)) return `"${service}" is not a Service name (lower-case letters, digits and '-', starting with a letter)`;
  if (!NAMESPACE.test(namespace)) return `"${namespace}" is not a namespace name`;
  const port = parsePort(portText, target.defaultPort);
  if (typeof port === 'string') return port;
  return { service, namespace, port };
}

function parsePort(text: string | undefined, defaultPort: number | undefined): PortSelector | string {
  if (text === undefined) return defaultPort === undefined ? { kind: 'only' } : { kind: 'number', port: defaultPort };
  if (/^\d+$/.test(text)) {
    const port = Number(text);
    if (port < 1 || port > 65535) return `port "${text}" is not a port from 1 to 65535`;
    return { kind: 'number', port };
  }
  if (!PORT_NAME.test(text)) return `"${text}" is not a port number or a port name (up to 15 lower-case letters, digits and '-')`;
  return { kind: 'name', name: text };
}

export function describePort(port: PortSelector): string {
  return port.kind === 'number' ? `port ${port.port}` : port.kind === 'name' ? `port "${port.name}"` : 'its only port';
}
