/**
 * Which port of each slice carries the wanted Service port. A slice's port
 * names are the Service's port names, but a slice's port numbers are the
 * pods' (a named targetPort can differ between pods, so each slice has its
 * own). A name is matched on the slice directly; a number, or a container
 * port name, is first mapped to the Service port's name through the Service.
 * Without the Service (not readable), a number is matched on the slices'
 * port numbers instead.
 */
import type { EndpointSliceObject, ServiceObject, SlicePort } from './resources.js';
import { describePort, type PortSelector } from './target.js';

/** How to find the port in one slice: by Service port name, or by number. */
export type SlicePortMatch = { readonly name: string } | { readonly number: number };

export function resolvePort(
  want: PortSelector,
  service: ServiceObject | undefined,
  slices: Iterable<EndpointSliceObject>,
): SlicePortMatch | string {
  const ports = service?.spec?.ports;
  if (ports !== undefined) {
    const name = (p: { name?: string }) => p.name ?? '';
    if (want.kind === 'only') {
      if (ports.length === 1) return { name: name(ports[0]!) };
      return `the Service has ${ports.length} ports (${ports.map((p) => name(p) || String(p.port)).join(', ')}); name one in the target (k8s:service:port)`;
    }
    if (want.kind === 'number') {
      const p = ports.find((sp) => sp.port === want.port) ?? ports.find((sp) => sp.targetPort === want.port);
      if (p !== undefined) return { name: name(p) };
      return `the Service has no ${describePort(want)} (it has ${ports.map((sp) => sp.port).join(', ')})`;
    }
    const p = ports.find((sp) => sp.name === want.name) ?? ports.find((sp) => sp.targetPort === want.name);
    if (p !== undefined) return { name: name(p) };
    return `the Service has no ${describePort(want)} (its ports: ${ports.map((sp) => name(sp) || String(sp.port)).join(', ')})`;
  }
  if (want.kind === 'number') return { number: want.port };
  if (want.kind === 'name') return { name: want.name };
  const names = new Set<string>();
  for (const s of slices) for (const p of s.ports ?? []) names.add(p.name ?? '');
  if (names.size === 1) return { name: [...names][0]! };
  return names.size === 0
    ? 'no EndpointSlice names a port yet, and the Service could not be read to find one'
    : `the EndpointSlices carry ${names.size} ports (${[...names].join(', ')}); name one in the target (k8s:service:port)`;
}

/** The port number in this slice, or undefined when the slice does not carry the port. */
export function portInSlice(slice: EndpointSliceObject, match: SlicePortMatch): number | undefined {
  const ports: readonly SlicePort[] = slice.ports ?? [];
  const p = 'name' in match ? ports.find((sp) => (sp.name ?? '') === match.name) : ports.find((sp) => sp.port === match.number);
  return typeof p?.port === 'number' && p.port >= 1 && p.port <= 65535 ? p.port : undefined;
}
