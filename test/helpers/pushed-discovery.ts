/**
 * A discovery source a test pushes endpoint sets into, health included, as
 * Kubernetes and xDS report them: the mesh sees each set on the next
 * microtask, as it would see a watch event.
 */
import type { DiscoveryProvider, Endpoint, EndpointListener } from '../../src/index.js';

export interface PushedDiscovery extends DiscoveryProvider {
  push(endpoints: Endpoint[]): void;
}

export function pushedDiscovery(scheme = 'test'): PushedDiscovery {
  let listener: EndpointListener | undefined;
  let current: Endpoint[] = [];
  return {
    scheme,
    watch(_target, l) {
      listener = l;
      queueMicrotask(() => l.next(current));
      return { close: () => (listener = undefined) };
    },
    push(endpoints) {
      current = endpoints;
      queueMicrotask(() => listener?.next(endpoints));
    },
  };
}
