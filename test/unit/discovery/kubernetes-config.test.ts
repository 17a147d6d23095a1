/**
 * Finding the API server: kubeconfig files (parsed with `yaml`), the
 * in-cluster service account, and the rotating projected token, the last
 * against the fake API server over real HTTPS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadClusterConfig } from '../../../src/discovery/kubernetes/cluster-config.js';
import { kubernetesProvider } from '../../../src/discovery/kubernetes/provider.js';
import { isMeshError } from '../../../src/errors.js';
import { EndpointRecorder, endpointSlice, FakeKubeApiServer, until } from '../../helpers/kube-apiserver/index.js';
import { findType } from '../../helpers/kube-apiserver/resources.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'proxyless-k8s-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(text: string): string {
  const path = join(dir, 'config');
  writeFileSync(path, text);
  return path;
}

describe('kubeconfig', () => {
  it('reads the current context\'s server, CA file (relative to the kubeconfig) and token file', async () => {
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    const path = kubeconfig(`
apiVersion: v1
kind: Config
current-context: dev
contexts:
  - name: dev
    context: { cluster: c1, user: u1, namespace: shop }
  - name: other
    context: { cluster: c2, user: u2 }
clusters:
  - name: c1
    cluster: { server: "https://10.1.2.3:6443/", certificate-authority: ca.pem, tls-server-name: kubernetes }
  - name: c2
    cluster: { server: "http://127.0.0.1:8001", insecure-skip-tls-verify: true }
users:
  - name: u1
    user: { tokenFile: token }
  - name: u2
    user: { token: abc }
`);
    const dev = await loadClusterConfig({}, { kubeconfig: path });
    expect(dev).toMatchObject({
      server: 'https://10.1.2.3:6443',
      ca: 'CA PEM',
      tlsServerName: 'kubernetes',
      insecureSkipTlsVerify: false,
      credentials: { kind: 'tokenFile', path: join(dir, 'token') },
    });
    expect(dev.source).toContain('context dev');
    const other = await loadClusterConfig({ KUBECONFIG: path }, { context: 'other' });
    expect(other).toMatchObject({ server: 'http://127.0.0.1:8001', insecureSkipTlsVerify: true, credentials: { kind: 'token', token: 'abc' } });
  });

  it('rejects exec plugins, unknown contexts and missing files with the file named', async () => {
    const path = kubeconfig(`
current-context: eks
contexts: [{ name: eks, context: { cluster: c, user: u } }]
clusters: [{ name: c, cluster: { server: "https://x" } }]
users: [{ name: u, user: { exec: { command: aws } } }]
`);
    await expect(loadClusterConfig({}, { kubeconfig: path })).rejects.toThrow(/authenticates with an exec plugin, which the mesh does not run/);
    await expect(loadClusterConfig({}, { kubeconfig: path, context: 'nope' })).rejects.toThrow(`kubeconfig ${path} has no context "nope"`);
    const err = await loadClusterConfig({ HOME: dir }).catch((e: unknown) => e);
    expect(isMeshError(err) && err.message).toContain('no Kubernetes API server configured');
  });

  it('uses the in-cluster service account when KUBERNETES_SERVICE_HOST is set and no kubeconfig is named', async () => {
    writeFileSync(join(dir, 'token'), 'tok\n');
    writeFileSync(join(dir, 'ca.crt'), 'CLUSTER CA');
    const env = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' };
    const cfg = await loadClusterConfig(env, { serviceAccountDir: dir });
    expect(cfg).toMatchObject({ server: 'https://[fd00::1]:6443', ca: 'CLUSTER CA', credentials: { kind: 'tokenFile', path: join(dir, 'token') } });
    rmSync(join(dir, 'token'));
    await expect(loadClusterConfig(env, { serviceAccountDir: dir })).rejects.toThrow(/cannot read .*token \(ENOENT\); is a service account token mounted/);
  });
});

describe('in-cluster against the fake API server', () => {
  let api: FakeKubeApiServer;
  afterEach(async () => api?.close());

  it('verifies the server with the mounted CA and re-reads a rotated token after a 401', async () => {
    api = await FakeKubeApiServer.start({ tokens: { 'token-1': 'admin', 'token-2': 'admin' } });
    writeFileSync(join(dir, 'token'), 'token-1');
    writeFileSync(join(dir, 'ca.crt'), api.ca!);
    const slices = findType('discovery.k8s.io', 'v1', 'endpointslices')!;
    api.store.create(slices, 'default', endpointSlice('r-a', 'reviews', ['10.0.0.1']));
    const port = new URL(api.url).port;
    const provider = kubernetesProvider({
      env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port },
      serviceAccountDir: dir,
      random: () => 0,
      backoff: { baseMs: 10, maxMs: 10 },
    });
    try {
      const rec = new EndpointRecorder();
      provider.watch({ uri: 'k8s:reviews:http', path: 'reviews:http', service: 'reviews', namespace: 'default', defaultPort: undefined }, rec);
      expect(await rec.nextSet()).toEqual(['10.0.0.1:8080']);
      await until(() => api.watchCount === 1, 'the watch');
      // The kubelet rotates the projected token; the old one stops working.
      writeFileSync(join(dir, 'token'), 'token-2\n');
      api.tokens.delete('token-1');
      api.dropWatches();
      await until(() => api.watchCount === 1 && api.requests.some((r) => r.token === 'token-2'), 'a watch with the new token');
      api.store.replace(slices, 'default', 'r-a', endpointSlice('r-a', 'reviews', ['10.0.0.2']));
      expect(await rec.nextSet()).toEqual(['10.0.0.2:8080']);
      expect(rec.events.some((e) => e.kind === 'error')).toBe(false);
    } finally {
      await provider.close?.();
    }
  });
});
