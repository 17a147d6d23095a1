/**
 * The k8s: provider against the fake API server (real HTTPS, port 0): list
 * then watch, bookmarks, 410 Gone, dropped connections, RBAC denial and
 * reconnect backoff (fake timers; the API traffic itself is real I/O).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { kubernetesProvider } from '../../../src/discovery/kubernetes/provider.js';
import type { DiscoveryProvider, DiscoveryTarget } from '../../../src/discovery/source.js';
import {
  EndpointRecorder,
  endpointSlice,
  FakeKubeApiServer,
  realDelay,
  service,
  until,
  writeKubeconfig,
} from '../../helpers/kube-apiserver/index.js';

const APP_TOKEN = 'app-token';

function target(path: string, service = 'reviews'): DiscoveryTarget {
  return { uri: `k8s:${path}`, path, service, namespace: 'default', defaultPort: undefined };
}

let api: FakeKubeApiServer;
let kubeconfig: ReturnType<typeof writeKubeconfig>;
let provider: DiscoveryProvider;

beforeEach(async () => {
  api = await FakeKubeApiServer.start({ tokens: { [APP_TOKEN]: 'admin' } });
  kubeconfig = writeKubeconfig(api, { token: APP_TOKEN });
  provider = kubernetesProvider({
    kubeconfig: kubeconfig.path,
    env: {},
    random: () => 0.5,
    backoff: { baseMs: 1000, maxMs: 8000 },
  });
  api.store.create(RT.services, 'default', service('reviews', [{ name: 'http', port: 80, targetPort: 8080 }]));
});

afterEach(async () => {
  vi.useRealTimers();
  await provider.close?.();
  await api.close();
  kubeconfig.dispose();
});

// Resource types, looked up once.
const RT = await (async () => {
  const { findType } = await import('../../helpers/kube-apiserver/resources.js');
  return { services: findType('', 'v1', 'services')!, slices: findType('discovery.k8s.io', 'v1', 'endpointslices')! };
})();

const watchRequests = () => api.requests.filter((r) => r.path.endsWith('/endpointslices') && r.query.get('watch') === 'true');
const listRequests = () => api.requests.filter((r) => r.path.endsWith('/endpointslices') && r.query.get('watch') === null);

describe('k8s: list then watch', () => {
  it('lists by the service-name label, then watches from the list resourceVersion with bookmarks', async () => {
    api.store.create(RT.slices, 'default', endpointSlice('reviews-a', 'reviews', ['10.0.0.1', '10.0.0.2']));
    api.store.create(RT.slices, 'default', endpointSlice('other-a', 'other', ['10.9.9.9']));
    const rec = new EndpointRecorder();
    const listRv = String(api.store.resourceVersion);
    provider.watch(target('reviews:http'), rec);
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    await until(() => api.watchCount === 1, 'the watch');
    const [list] = listRequests();
    expect(list?.query.get('labelSelector')).toBe('kubernetes.io/service-name=reviews');
    const [w] = watchRequests();
    expect(w?.query.get('resourceVersion')).toBe(listRv);
    expect(w?.query.get('allowWatchBookmarks')).toBe('true');
    // Between 300 and 600 s, from the jitter source (0.5 here).
    expect(w?.query.get('timeoutSeconds')).toBe('450');
    expect(w?.token).toBe(APP_TOKEN);

    api.store.replace(RT.slices, 'default', 'reviews-a', endpointSlice('reviews-a', 'reviews', ['10.0.0.1', '10.0.0.2', '10.0.0.3']));
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
    api.store.create(RT.slices, 'default', endpointSlice('reviews-b', 'reviews', ['10.0.1.1']));
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080', '10.0.1.1:8080']);
    api.store.delete(RT.slices, 'default', 'reviews-a');
    expect(await rec.nextSet()).toEqual(['10.0.1.1:8080']);
    // A change to another service's slice delivers nothing.
    api.store.replace(RT.slices, 'default', 'other-a', endpointSlice('other-a', 'other', ['10.9.9.8']));
    api.store.delete(RT.slices, 'default', 'reviews-b');
    expect(await rec.nextSet()).toEqual([]);
    expect(rec.untaken).toBe(0);
  });

  it('resolves a Service port number to the slices\' target port through the Service port name', async () => {
    api.store.create(RT.services, 'default', service('ratings', [{ name: 'grpc', port: 9090, targetPort: 'grpc-port' }, { name: 'web', port: 80, targetPort: 8081 }]));
    api.store.create(RT.slices, 'default', endpointSlice('ratings-a', 'ratings', ['10.0.2.1'], [{ name: 'grpc', port: 50051 }, { name: 'web', port: 8081 }]));
    // Pods of another slice expose the named container port on another number.
    api.store.create(RT.slices, 'default', endpointSlice('ratings-b', 'ratings', ['10.0.2.2'], [{ name: 'grpc', port: 50052 }, { name: 'web', port: 8081 }]));
    const byNumber = new EndpointRecorder();
    const byTargetName = new EndpointRecorder();
    const ambiguous = new EndpointRecorder();
    provider.watch(target('ratings.default:9090', 'ratings'), byNumber);
    provider.watch(target('ratings:grpc-port', 'ratings'), byTargetName);
    provider.watch(target('ratings', 'ratings'), ambiguous);
    expect(await byNumber.nextSet()).toEqual(['10.0.2.1:50051', '10.0.2.2:50052']);
    expect(await byTargetName.nextSet()).toEqual(['10.0.2.1:50051', '10.0.2.2:50052']);
    const err = await ambiguous.nextError();
    expect(err.message).toContain('the Service has 2 ports (grpc, web)');
    expect(err.retryable).toBe(false);
  });

  it('resumes from the last bookmark after a dropped connection, without relisting', async () => {
    api.store.create(RT.slices, 'default', endpointSlice('reviews-a', 'reviews', ['10.0.0.1']));
    const rec = new EndpointRecorder();
    provider.watch(target('reviews:http'), rec);
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080']);
    await until(() => api.watchCount === 1, 'the watch');
    // Unrelated writes move the resourceVersion on; the bookmark carries it to the client.
    api.store.create(RT.slices, 'default', endpointSlice('other-a', 'other', ['10.9.9.9']));
    api.bookmark();
    const bookmarkRv = String(api.store.resourceVersion);
    await new Promise((r) => setTimeout(r, 100));
    api.dropWatches();
    await until(() => watchRequests().length === 2 && api.watchCount === 1, 'the second watch', 15_000);
    expect(watchRequests()[1]?.query.get('resourceVersion')).toBe(bookmarkRv);
    expect(listRequests()).toHaveLength(1);
    // Nothing changed for reviews, so nothing was delivered again.
    expect(rec.untaken).toBe(0);
  });

  it('reopens a watch the server ended (its timeout) at once, from the last event, without relisting', async () => {
    api.store.create(RT.slices, 'default', endpointSlice('reviews-a', 'reviews', ['10.0.0.1']));
    const rec = new EndpointRecorder();
    provider.watch(target('reviews:http'), rec);
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080']);
    await until(() => api.watchCount === 1, 'the watch');
    api.store.replace(RT.slices, 'default', 'reviews-a', endpointSlice('reviews-a', 'reviews', ['10.0.0.2']));
    expect(await rec.nextSet()).toEqual(['10.0.0.2:8080']);
    const lastRv = String(api.store.resourceVersion);
    // Frozen clock: a reopen that waited for a backoff timer could not happen.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    api.endWatches();
    await until(() => watchRequests().length === 2, 'the reopened watch');
    expect(watchRequests()[1]?.query.get('resourceVersion')).toBe(lastRv);
    expect(listRequests()).toHaveLength(1);
  });

  it('backs off when the server ends every watch at once, instead of polling in a loop', async () => {
    api.store.create(RT.slices, 'default', endpointSlice('reviews-a', 'reviews', ['10.0.0.1']));
    const rec = new EndpointRecorder();
    provider.watch(target('reviews:http'), rec);
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080']);
    await until(() => api.watchCount === 1, 'the watch');
    // This watch carries an event, so its clean end reopens at once.
    api.store.replace(RT.slices, 'default', 'reviews-a', endpointSlice('reviews-a', 'reviews', ['10.0.0.2']));
    expect(await rec.nextSet()).toEqual(['10.0.0.2:8080']);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    api.endWatches();
    // The reopened watch is ended at once too, having carried nothing.
    await until(() => watchRequests().length === 2 && api.watchCount === 1, 'the reopened watch');
    api.endWatches();
    // Real time for a reopen to show, if one were (wrongly) made without waiting.
    await realDelay(300);
    await vi.advanceTimersByTimeAsync(499);
    expect(watchRequests()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => watchRequests().length === 3, 'the watch after the backoff');
    expect(rec.untaken).toBe(0);
  });

  it('relists on 410 Gone, keeping the current endpoints until the new list arrives', async () => {
    api.store.create(RT.slices, 'default', endpointSlice('reviews-a', 'reviews', ['10.0.0.1', '10.0.0.2']));
    const rec = new EndpointRecorder();
    provider.watch(target('reviews:http'), rec);
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    await until(() => api.watchCount === 1, 'the watch');
    api.dropWatches();
    // While the client is away, the slice changes and the history is compacted.
    api.store.replace(RT.slices, 'default', 'reviews-a', endpointSlice('reviews-a', 'reviews', ['10.0.0.2', '10.0.0.3']));
    api.store.compact();
    expect(await rec.nextSet()).toEqual(['10.0.0.2:8080', '10.0.0.3:8080']);
    expect(listRequests()).toHaveLength(2);
    // The watch that got 410 was followed by a relist, then a watch from the new list's version.
    await until(() => api.watchCount === 1, 'the watch after the relist');
    expect(watchRequests().at(-1)?.query.get('resourceVersion')).toBe(String(api.store.resourceVersion));
    // No error and no empty set in between: the old endpoints served until the relist.
    expect(rec.events.every((e) => e.kind === 'next' && e.endpoints.length > 0)).toBe(true);
  });
});

describe('k8s: failures', () => {
  it('reports a 403 as MESH_DISCOVERY_FORBIDDEN naming the missing permission', async () => {
    const denied = kubernetesProvider({ kubeconfig: writeKubeconfig(api, { token: 'forbidden-token' }).path, env: {} });
    try {
      const rec = new EndpointRecorder();
      denied.watch(target('reviews:http'), rec);
      const err = await rec.nextError();
      expect(err.code).toBe('MESH_DISCOVERY_FORBIDDEN');
      expect(err.retryable).toBe(false);
      expect(err.message).toContain('cannot list resource "endpointslices" in API group "discovery.k8s.io" in the namespace "default"');
      expect(err.message).toContain('no endpoints known yet');
    } finally {
      await denied.close?.();
    }
  });

  it('keeps the last good endpoints through a 403 and an outage, and backs off between attempts', async () => {
    api.store.create(RT.slices, 'default', endpointSlice('reviews-a', 'reviews', ['10.0.0.1']));
    const rec = new EndpointRecorder();
    provider.watch(target('reviews:http'), rec);
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080']);
    await until(() => api.watchCount === 1, 'the watch');

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    api.tokens.set(APP_TOKEN, 'forbidden');
    api.dropWatches();
    // Dropped stream: no report, first backoff (random 0.5 × 1000 ms).
    await until(() => api.watchCount === 0, 'the drop');
    await vi.advanceTimersByTimeAsync(499);
    expect(watchRequests()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    const forbidden = await rec.nextError();
    expect(forbidden.code).toBe('MESH_DISCOVERY_FORBIDDEN');
    expect(forbidden.message).toContain('keeping the last 1 endpoint(s) and retrying');
    expect(watchRequests()).toHaveLength(2);

    // Second failure waits 0.5 × 3 × 1000 ms; a 503 outage is reported as a plain failure.
    api.tokens.set(APP_TOKEN, 'admin');
    api.outage = 503;
    await vi.advanceTimersByTimeAsync(1499);
    expect(watchRequests()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    const outage = await rec.nextError();
    expect(outage.code).toBe('MESH_DISCOVERY_FAILED');
    expect(outage.message).toContain('503 ServiceUnavailable');

    // Third wait 0.5 × 7 × 1000 ms; then the watch is back and the set is delivered again as the all-clear.
    api.outage = undefined;
    await vi.advanceTimersByTimeAsync(3499);
    expect(watchRequests()).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080']);
    // Resumed from the old resourceVersion: still one list.
    expect(listRequests()).toHaveLength(1);
    expect(rec.events.filter((e) => e.kind === 'next').every((e) => e.kind === 'next' && e.endpoints.length === 1)).toBe(true);
  });

  it('calls nothing after close and closes its watch connection', async () => {
    api.store.create(RT.slices, 'default', endpointSlice('reviews-a', 'reviews', ['10.0.0.1']));
    const rec = new EndpointRecorder();
    const watch = provider.watch(target('reviews:http'), rec);
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080']);
    await until(() => api.watchCount === 1, 'the watch');
    watch.close();
    await until(() => api.watchCount === 0, 'the watch to close');
    api.store.replace(RT.slices, 'default', 'reviews-a', endpointSlice('reviews-a', 'reviews', ['10.0.0.9']));
    await new Promise((r) => setTimeout(r, 200));
    expect(rec.untaken).toBe(0);
  });

  it('reports an unusable target on a later turn, never from inside watch()', async () => {
    const rec = new EndpointRecorder();
    provider.watch(target('NOT valid'), rec);
    expect(rec.events).toHaveLength(0);
    const err = await rec.nextError();
    expect(err.message).toContain('"NOT valid" is not a Service name');
    expect(provider.validate?.(target('NOT valid'))).toContain('is not a Service name');
  });
});
