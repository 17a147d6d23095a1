export { endpointSlice, node, type SliceEndpointSpec, service } from './fixtures.js';
export { KUBECTL, type KubectlResult, kubectl, writeKubeconfig } from './kubectl.js';
export { type DiscoveryEvent, EndpointRecorder, realDelay, until } from './recorder.js';
export { ADMIN_TOKEN, FakeKubeApiServer, FORBIDDEN_TOKEN, type TokenRole } from './server.js';
export type { KubeObject } from './store.js';
