/**
 * The fake API server itself, driven by the real kubectl: it must behave
 * like the real one for create, replace, delete, RBAC denial, compaction and
 * the status subresource, or every test built on it proves nothing.
 */

import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ADMIN_TOKEN, endpointSlice, FakeKubeApiServer, FORBIDDEN_TOKEN, kubectl, node, writeKubeconfig } from '../../helpers/kube-apiserver/index.js';

let api: FakeKubeApiServer;
let kc: ReturnType<typeof writeKubeconfig>;
beforeAll(async () => {
  api = await FakeKubeApiServer.start();
  kc = writeKubeconfig(api);
});
afterAll(async () => {
  await api.close();
  kc.dispose();
});

const sliceYaml = (ips: string[]) => stringify(endpointSlice('web-1', 'web', ips));

describe('fake kube-apiserver with kubectl', () => {
  it('creates, replaces, reads and deletes EndpointSlices, bumping resourceVersion on each write', async () => {
    expect((await kubectl(kc.path, ['create', '-f', '-'], sliceYaml(['10.0.0.1']))).stdout).toContain('endpointslice.discovery.k8s.io/web-1 created');
    const dup = await kubectl(kc.path, ['create', '-f', '-'], sliceYaml(['10.0.0.1']));
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('Error from server (AlreadyExists)');
    const first = JSON.parse((await kubectl(kc.path, ['get', 'endpointslice', 'web-1', '-o', 'json'])).stdout);
    expect((await kubectl(kc.path, ['replace', '-f', '-'], sliceYaml(['10.0.0.2']))).stdout).toContain('replaced');
    const second = JSON.parse((await kubectl(kc.path, ['get', 'endpointslice', 'web-1', '-o', 'json'])).stdout);
    expect(second.endpoints[0].addresses).toEqual(['10.0.0.2']);
    expect(Number(second.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
    expect(second.metadata.uid).toBe(first.metadata.uid);
    expect((await kubectl(kc.path, ['apply', '-f', '-'], sliceYaml(['10.0.0.3']))).code).toBe(0);
    const third = JSON.parse((await kubectl(kc.path, ['get', 'endpointslice', 'web-1', '-o', 'json'])).stdout);
    expect(third.endpoints[0].addresses).toEqual(['10.0.0.3']);
    expect((await kubectl(kc.path, ['delete', 'endpointslice', 'web-1'])).stdout).toContain('deleted');
    const gone = await kubectl(kc.path, ['get', 'endpointslice', 'web-1']);
    expect(gone.stderr).toContain('Error from server (NotFound): endpointslices.discovery.k8s.io "web-1" not found');
  });

  it('answers a token without RBAC permission with a 403 Status kubectl prints as Forbidden', async () => {
    const denied = writeKubeconfig(api, { token: FORBIDDEN_TOKEN });
    try {
      const r = await kubectl(denied.path, ['get', 'endpointslices']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('Error from server (Forbidden)');
      expect(r.stderr).toContain(`cannot list resource "endpointslices" in API group "discovery.k8s.io"`);
    } finally {
      denied.dispose();
    }
  });

  it('serves cluster-scoped Nodes: kubectl get node NAME -o json, the list, and 404 and 403 Status as the real server words them', async () => {
    const created = await kubectl(kc.path, ['create', '-f', '-'], stringify(node('node-a', { zone: 'eu-west-1a', region: 'eu-west-1' })));
    expect(created.stdout).toContain('node/node-a created');
    const got = await kubectl(kc.path, ['get', 'node', 'node-a', '-o', 'json']);
    expect(got.code, got.stderr).toBe(0);
    const obj = JSON.parse(got.stdout);
    expect(obj).toMatchObject({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'eu-west-1a' } } });
    expect(obj.metadata.namespace).toBeUndefined();
    expect(api.requests.at(-1)?.path).toBe('/api/v1/nodes/node-a');
    expect((await kubectl(kc.path, ['get', 'nodes', '-o', 'name'])).stdout.trim()).toBe('node/node-a');
    expect((await kubectl(kc.path, ['get', 'no', '-l', 'topology.kubernetes.io/zone=eu-west-1b', '-o', 'name'])).stdout.trim()).toBe('');

    const missing = await kubectl(kc.path, ['get', 'node', 'node-z']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('Error from server (NotFound): nodes "node-z" not found');
    // The Status body itself, field for field as kube-apiserver writes it (the core group's "" left out).
    const agent = new Agent({ connect: { ca: api.ca } });
    const res = await request(`${api.url}/api/v1/nodes/node-z`, { dispatcher: agent, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = await res.body.json();
    await agent.close();
    expect(res.statusCode).toBe(404);
    expect(body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'nodes "node-z" not found',
      reason: 'NotFound',
      details: { name: 'node-z', kind: 'nodes' },
      code: 404,
    });

    const denied = writeKubeconfig(api, { token: FORBIDDEN_TOKEN });
    try {
      const r = await kubectl(denied.path, ['get', 'node', 'node-a']);
      expect(r.stderr).toContain('Error from server (Forbidden)');
      expect(r.stderr).toContain('cannot get resource "nodes" in API group "" at the cluster scope');
    } finally {
      denied.dispose();
    }
  });

  it('ends a watch from a compacted resourceVersion with a 410 Expired ERROR event', async () => {
    await kubectl(kc.path, ['create', '-f', '-'], sliceYaml(['10.0.0.1']));
    const old = api.store.resourceVersion - 1;
    api.store.compact();
    const r = await kubectl(kc.path, [
      'get',
      '--raw',
      `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?watch=true&resourceVersion=${old}`,
    ]);
    const event = JSON.parse(r.stdout.trim());
    expect(event).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });
});

describe('fake kube-apiserver: the status subresource', () => {
  const ROUTES = '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes';
  const MERGE = 'application/merge-patch+json';
  // Loosely typed: these tests read whatever the server answered.
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body under test
  type Json = any;

  async function call(method: string, path: string, body?: unknown, options: { token?: string; type?: string } = {}): Promise<{ code: number; body: Json }> {
    const agent = new Agent({ connect: { ca: api.ca } });
    try {
      const res = await request(`${api.url}${path}`, {
        method: method as 'GET',
        dispatcher: agent,
        headers: {
          authorization: `Bearer ${options.token ?? ADMIN_TOKEN}`,
          ...(body !== undefined ? { 'content-type': options.type ?? (method === 'PATCH' ? MERGE : 'application/json') } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { code: res.statusCode, body: await res.body.json() };
    } finally {
      await agent.close();
    }
  }

  const httpRoute = (name: string, hostname = 'reviews.example') => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'default' },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews' }], hostnames: [hostname], rules: [{ backendRefs: [{ name: 'reviews', port: 9080 }] }] },
  });
  const routeStatus = (reason: string) => ({
    parents: [
      {
        parentRef: { group: '', kind: 'Service', name: 'reviews' },
        controllerName: 'proxyless.dev/mesh',
        conditions: [{ type: 'Accepted', status: 'True', reason, message: '', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }],
      },
    ],
  });
  async function createRoute(name: string): Promise<Json> {
    const r = await call('POST', ROUTES, httpRoute(name));
    expect(r.code).toBe(201);
    return r.body;
  }

  it('writes only .status through /status, by PATCH and PUT, without bumping generation; create cannot set it', async () => {
    const created = await call('POST', ROUTES, { ...httpRoute('r-status'), status: routeStatus('Sneaked') });
    expect(created.code).toBe(201);
    expect(created.body.status).toBeUndefined();
    const patched = await call('PATCH', `${ROUTES}/r-status/status`, {
      metadata: { labels: { sneaked: 'yes' } },
      spec: { hostnames: ['evil.example'] },
      status: routeStatus('Accepted'),
    });
    expect(patched.code).toBe(200);
    expect(patched.body.status).toEqual(routeStatus('Accepted'));
    expect(patched.body.spec).toEqual(created.body.spec);
    expect(patched.body.metadata.labels).toBeUndefined();
    expect(patched.body.metadata.generation).toBe(1);
    expect(Number(patched.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.body.metadata.resourceVersion));
    // GET on /status answers the whole object.
    expect((await call('GET', `${ROUTES}/r-status/status`)).body).toEqual(patched.body);

    const put = await call('PUT', `${ROUTES}/r-status/status`, { ...patched.body, spec: { hostnames: ['evil.example'] }, status: routeStatus('Replaced') });
    expect(put.code).toBe(200);
    expect(put.body).toMatchObject({ spec: created.body.spec, status: routeStatus('Replaced'), metadata: { generation: 1 } });
    expect((await call('GET', `${ROUTES}/r-status`)).body).toEqual(put.body);
  });

  it('keeps the stored status when the route itself is written, and bumps generation only when the spec changes', async () => {
    await createRoute('r-main');
    const reported = (await call('PATCH', `${ROUTES}/r-main/status`, { status: routeStatus('Accepted') })).body;

    const labelled = await call('PATCH', `${ROUTES}/r-main`, { metadata: { labels: { team: 'a' } } });
    expect(labelled.body.metadata).toMatchObject({ labels: { team: 'a' }, generation: 1 });
    expect(Number(labelled.body.metadata.resourceVersion)).toBeGreaterThan(Number(reported.metadata.resourceVersion));

    const replaced = await call('PUT', `${ROUTES}/r-main`, { ...labelled.body, spec: httpRoute('r-main', 'v2.example').spec, status: routeStatus('Overwritten') });
    expect(replaced.code).toBe(200);
    expect(replaced.body.spec.hostnames).toEqual(['v2.example']);
    expect(replaced.body.status).toEqual(routeStatus('Accepted'));
    expect(replaced.body.metadata.generation).toBe(2);

    const cleared = await call('PATCH', `${ROUTES}/r-main`, { status: null });
    expect(cleared.body.status).toEqual(routeStatus('Accepted'));
    // Nothing changed, so nothing was written: the same resourceVersion, as from etcd.
    expect(cleared.body.metadata.resourceVersion).toBe(replaced.body.metadata.resourceVersion);
    expect(cleared.body.metadata.generation).toBe(2);
  });

  it('answers 409 to a patch or update whose body carries a stale resourceVersion, and applies a current one', async () => {
    const stale = (await createRoute('r-conflict')).metadata.resourceVersion;
    const fresh = (await call('PATCH', `${ROUTES}/r-conflict/status`, { status: routeStatus('Accepted') })).body.metadata.resourceVersion;
    const conflict = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Operation cannot be fulfilled on httproutes.gateway.networking.k8s.io "r-conflict": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'r-conflict', group: 'gateway.networking.k8s.io', kind: 'httproutes' },
      code: 409,
    };
    const staleStatus = { metadata: { resourceVersion: stale }, status: routeStatus('Stale') };
    expect(await call('PATCH', `${ROUTES}/r-conflict/status`, staleStatus)).toEqual({ code: 409, body: conflict });
    expect(await call('PATCH', `${ROUTES}/r-conflict`, { metadata: { resourceVersion: stale }, spec: { hostnames: ['x.example'] } })).toEqual({ code: 409, body: conflict });
    expect(await call('PUT', `${ROUTES}/r-conflict/status`, { ...httpRoute('r-conflict'), ...staleStatus })).toEqual({ code: 409, body: conflict });
    expect((await call('GET', `${ROUTES}/r-conflict`)).body.status).toEqual(routeStatus('Accepted'));

    const current = await call('PATCH', `${ROUTES}/r-conflict/status`, { metadata: { resourceVersion: fresh }, status: routeStatus('Current') });
    expect(current.code).toBe(200);
    expect(current.body.status).toEqual(routeStatus('Current'));
  });

  it('needs an RBAC rule naming httproutes/status to write it: httproutes alone does not grant it', async () => {
    await createRoute('r-rbac');
    api.tokens.set('routes-only', { allow: ['httproutes'] });
    api.tokens.set('route-status', { allow: ['httproutes', 'httproutes/status'] });
    expect((await call('GET', `${ROUTES}/r-rbac`, undefined, { token: 'routes-only' })).code).toBe(200);
    const denied = await call('PATCH', `${ROUTES}/r-rbac/status`, { status: routeStatus('Accepted') }, { token: 'routes-only' });
    expect(denied).toEqual({
      code: 403,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'httproutes.gateway.networking.k8s.io "r-rbac" is forbidden: User "system:serviceaccount:default:routes-only" cannot patch resource "httproutes/status" in API group "gateway.networking.k8s.io" in the namespace "default"',
        reason: 'Forbidden',
        details: { name: 'r-rbac', group: 'gateway.networking.k8s.io', kind: 'httproutes' },
        code: 403,
      },
    });
    const allowed = await call('PATCH', `${ROUTES}/r-rbac/status`, { status: routeStatus('Accepted') }, { token: 'route-status' });
    expect(allowed.code).toBe(200);
    expect(allowed.body.status).toEqual(routeStatus('Accepted'));
  });

  it('delivers a status write to watchers as a MODIFIED event', async () => {
    const from = (await createRoute('r-watch')).metadata.resourceVersion;
    const agent = new Agent({ connect: { ca: api.ca } });
    try {
      const watch = await request(`${api.url}${ROUTES}?watch=true&resourceVersion=${from}&fieldSelector=metadata.name%3Dr-watch`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(watch.statusCode).toBe(200);
      const written = await call('PATCH', `${ROUTES}/r-watch/status`, { status: routeStatus('Accepted') });
      let buffered = '';
      for await (const chunk of watch.body) {
        buffered += chunk.toString();
        if (buffered.includes('\n')) break;
      }
      const event = JSON.parse(buffered.split('\n')[0]!);
      expect(event.type).toBe('MODIFIED');
      expect(event.object).toEqual(written.body);
    } finally {
      await agent.destroy();
    }
  });

  it('lists <resource>/status in discovery for the types that have it, and answers 404 for /status on the others', async () => {
    const names = async (path: string) => ((await call('GET', path)).body.resources as { name: string }[]).map((r) => r.name);
    const gateway = (await call('GET', '/apis/gateway.networking.k8s.io/v1')).body.resources;
    expect(gateway).toContainEqual({ name: 'httproutes/status', singularName: '', namespaced: true, kind: 'HTTPRoute', verbs: ['get', 'patch', 'update'] });
    expect(await names('/apis/gateway.networking.k8s.io/v1')).toContain('grpcroutes/status');
    expect(await names('/apis/gateway.networking.k8s.io/v1beta1')).toEqual(['httproutes', 'httproutes/status', 'referencegrants']);
    expect(await names('/apis/security.istio.io/v1')).toContain('authorizationpolicies/status');
    const core = await names('/api/v1');
    expect(core).toEqual(expect.arrayContaining(['namespaces/status', 'nodes/status', 'services/status', 'pods/status']));
    expect(core).not.toContain('configmaps/status');

    const grant = { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'rg' }, spec: { from: [], to: [] } };
    expect((await call('POST', '/apis/gateway.networking.k8s.io/v1beta1/namespaces/default/referencegrants', grant)).code).toBe(201);
    const missing = {
      code: 404,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 },
    };
    expect(await call('PATCH', '/apis/gateway.networking.k8s.io/v1beta1/namespaces/default/referencegrants/rg/status', { status: {} })).toEqual(missing);
    expect(await call('GET', '/api/v1/namespaces/default/configmaps/any/status')).toEqual(missing);
  });

  it('kubectl patch --subresource=status writes the status that kubectl get then shows', async () => {
    expect((await kubectl(kc.path, ['create', '-f', '-'], stringify(httpRoute('r-kubectl')))).stdout).toContain('httproute.gateway.networking.k8s.io/r-kubectl created');
    const patch = JSON.stringify({ status: routeStatus('Accepted') });
    const r = await kubectl(kc.path, ['patch', 'httproute', 'r-kubectl', '--subresource=status', '--type=merge', '-p', patch]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('httproute.gateway.networking.k8s.io/r-kubectl patched');
    expect(api.requests.filter((q) => q.method === 'PATCH').at(-1)?.path).toBe(`${ROUTES}/r-kubectl/status`);
    const again = await kubectl(kc.path, ['patch', 'httproute', 'r-kubectl', '--subresource=status', '--type=merge', '-p', patch]);
    expect(again.stdout).toContain('httproute.gateway.networking.k8s.io/r-kubectl patched (no change)');

    const got = JSON.parse((await kubectl(kc.path, ['get', 'httproute', 'r-kubectl', '-o', 'json'])).stdout);
    expect(got.status).toEqual(routeStatus('Accepted'));
    expect(got.metadata.generation).toBe(1);
    // Without --subresource the same patch is a write to the route itself: its status is ignored.
    const ignored = await kubectl(kc.path, ['patch', 'httproute', 'r-kubectl', '--type=merge', '-p', JSON.stringify({ status: routeStatus('Ignored') })]);
    expect(ignored.stdout).toContain('patched (no change)');
    expect(JSON.parse((await kubectl(kc.path, ['get', 'httproute', 'r-kubectl', '-o', 'json'])).stdout).status).toEqual(routeStatus('Accepted'));
  });
});
