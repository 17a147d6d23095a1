import type { DiscoveryProvider, DiscoveryTarget, EndpointListener, EndpointWatch } from './source.js';

/**
 * Endpoints listed in config. A config update that changes the list makes a
 * new target, so the watch itself only has to deliver once.
 */
export function staticProvider(): DiscoveryProvider {
  return {
    scheme: 'static',
    watch(target: DiscoveryTarget, listener: EndpointListener): EndpointWatch {
      let open = true;
      const endpoints = target.endpoints ?? [];
      queueMicrotask(() => {
        if (open) listener.next(endpoints);
      });
      return {
        close() {
          open = false;
        },
      };
    },
  };
}
