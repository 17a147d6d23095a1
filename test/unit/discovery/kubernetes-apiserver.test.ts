/**
 * The fake API server itself, driven by the real kubectl: it must behave
 * like the real one for create, replace, delete, RBAC denial and compaction,
 * or every test built on it proves nothing.
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
