/** Bootstrap: gRPC's format as istiod's proxyless agent writes it, MESH_XDS_SERVER, and errors naming the field. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { ConfigError } from '../../../../src/config/config-error.js';
import { bootstrapFromEnv, parseBootstrap } from '../../../../src/discovery/xds/bootstrap.js';
import { bootstrapCertificates } from '../../../../src/discovery/xds/bootstrap-certificates.js';

// The shape istio-agent writes to /etc/istio/proxy/grpc-bootstrap.json.
const ISTIO = {
  xds_servers: [
    {
      server_uri: 'unix:///etc/istio/proxy/XDS',
      channel_creds: [{ type: 'insecure' }],
      server_features: ['xds_v3'],
    },
  ],
  node: {
    id: 'sidecar~10.244.0.36~echo-v1-5c8d8c7b6b-2x8xq.echo-grpc~echo-grpc.svc.cluster.local',
    metadata: { GENERATOR: 'grpc', INSTANCE_IPS: '10.244.0.36', NAMESPACE: 'echo-grpc' },
    locality: { region: 'us-central1', zone: 'us-central1-a' },
    UserAgentVersionType: null,
  },
  certificate_providers: {
    default: {
      plugin_name: 'file_watcher',
      config: {
        certificate_file: '/var/lib/istio/data/cert-chain.pem',
        private_key_file: '/var/lib/istio/data/key.pem',
        ca_certificate_file: '/var/lib/istio/data/root-cert.pem',
        refresh_interval: '900s',
      },
    },
  },
  server_listener_resource_name_template: 'xds.istio.io/grpc/lds/inbound/%s',
};

function issues(text: string): string[] {
  try {
    parseBootstrap(text, 'test');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('MESH_CONFIG_INVALID');
    return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

test("istiod's proxyless bootstrap parses unchanged", () => {
  const b = parseBootstrap(JSON.stringify(ISTIO), 'GRPC_XDS_BOOTSTRAP /etc/istio/proxy/grpc-bootstrap.json');
  expect(b.serverUri).toBe('unix:///etc/istio/proxy/XDS');
  expect(b.creds).toEqual({ type: 'insecure' });
  expect(b.serverFeatures).toEqual(['xds_v3']);
  expect(b.node.id).toContain('sidecar~10.244.0.36');
  expect(b.node.metadata.NAMESPACE).toBe('echo-grpc');
  expect(b.node.locality).toEqual({ region: 'us-central1', zone: 'us-central1-a', subZone: '' });
  expect(b.certificateProviders.default?.pluginName).toBe('file_watcher');
});

test('the first supported channel credential wins; google_default alone is explained', () => {
  const b = parseBootstrap(
    JSON.stringify({ xds_servers: [{ server_uri: 'cp:15012', channel_creds: [{ type: 'google_default' }, { type: 'tls', config: { ca_certificate_file: '/ca.pem' } }] }] }),
    'test',
  );
  expect(b.creds).toEqual({ type: 'tls', caFile: '/ca.pem' });
  expect(issues(JSON.stringify({ xds_servers: [{ server_uri: 'cp:1', channel_creds: [{ type: 'google_default' }] }] }))).toEqual([
    'xds_servers[0].channel_creds: lists no supported credential type (got "google_default"; the mesh supports insecure and tls); google_default needs Google Cloud credentials (ALTS or OAuth) that the mesh does not implement: use tls or insecure',
  ]);
});

test('bad bootstraps name every bad field', () => {
  expect(issues('{')).toEqual([expect.stringMatching(/^: is not valid JSON/)]);
  expect(issues(JSON.stringify({ xds_servers: [] }))).toEqual(['xds_servers: must list at least one server']);
  expect(issues(JSON.stringify({ xds_servers: [{ channel_creds: [{}] }], node: { id: 7 } }))).toEqual([
    'xds_servers[0].server_uri: is required',
    'xds_servers[0].channel_creds[0].type: is required',
    'node.id: must be a non-empty string, got 7',
  ]);
});

test('the environment: GRPC_XDS_BOOTSTRAP file, inline GRPC_XDS_BOOTSTRAP_CONFIG, MESH_XDS_SERVER', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xds-bootstrap-'));
  const file = path.join(dir, 'bootstrap.json');
  writeFileSync(file, JSON.stringify(ISTIO));
  expect(bootstrapFromEnv({ GRPC_XDS_BOOTSTRAP: file })?.source).toBe(`GRPC_XDS_BOOTSTRAP ${file}`);
  expect(bootstrapFromEnv({ GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(ISTIO) })?.serverUri).toBe('unix:///etc/istio/proxy/XDS');
  expect(() => bootstrapFromEnv({ GRPC_XDS_BOOTSTRAP: path.join(dir, 'missing.json') })).toThrow(/cannot be read \(ENOENT\)/);

  const plain = bootstrapFromEnv({ MESH_XDS_SERVER: 'control-plane:18000', MESH_XDS_NODE_ID: 'n1' });
  expect(plain?.serverUri).toBe('control-plane:18000');
  expect(plain?.creds).toEqual({ type: 'insecure' });
  expect(plain?.node.id).toBe('n1');
  const tls = bootstrapFromEnv({ MESH_XDS_SERVER: 'tls://istiod.istio-system.svc:15012', MESH_XDS_CA_FILE: '/etc/ca.pem' });
  expect(tls?.creds).toEqual({ type: 'tls', caFile: '/etc/ca.pem' });
  expect(() => bootstrapFromEnv({ MESH_XDS_SERVER: 'no-port' })).toThrow(/MESH_XDS_SERVER: "no-port" is not host:port/);
  expect(bootstrapFromEnv({})).toBeUndefined();
});

test('MESH_XDS_SERVER: every accepted form, and whether it means TLS (docs/env.md)', () => {
  const forms: [string, string, 'tls' | 'insecure'][] = [
    ['control-plane:18000', 'control-plane:18000', 'insecure'],
    ['tls://cp:15012', 'cp:15012', 'tls'],
    ['https://cp:15012', 'cp:15012', 'tls'],
    ['http://cp:15010', 'cp:15010', 'insecure'],
    ['grpc://cp:15010', 'cp:15010', 'insecure'],
    ['plaintext://cp:15010', 'cp:15010', 'insecure'],
    ['dns:///cp.example:15010', 'dns:///cp.example:15010', 'insecure'],
    ['tls://dns:///cp.example:15012', 'dns:///cp.example:15012', 'tls'],
    ['dns://10.96.0.10/cp.example:15010', 'dns://10.96.0.10/cp.example:15010', 'insecure'],
    ['[::1]:15010', '[::1]:15010', 'insecure'],
    ['unix:///var/run/xds.sock', 'unix:///var/run/xds.sock', 'insecure'],
    ['unix:xds.sock', 'unix:xds.sock', 'insecure'],
  ];
  for (const [value, serverUri, type] of forms) {
    const b = bootstrapFromEnv({ MESH_XDS_SERVER: value });
    expect({ value, serverUri: b?.serverUri, type: b?.creds.type }).toEqual({ value, serverUri, type });
  }
  for (const bad of ['cp', 'tls://cp', 'ftp://cp:21', 'cp:15010 extra']) {
    expect(() => bootstrapFromEnv({ MESH_XDS_SERVER: bad })).toThrow(/is not host:port, dns:\/\/\/host:port or unix:path/);
  }
});

test("istio's file_watcher certificate provider becomes the mesh's files certificate source", () => {
  const b = parseBootstrap(JSON.stringify(ISTIO), 'test');
  expect(bootstrapCertificates(b)).toEqual({ provider: 'files', dir: '/var/lib/istio/data' });
  const odd = parseBootstrap(
    JSON.stringify({
      ...ISTIO,
      certificate_providers: { default: { plugin_name: 'file_watcher', config: { certificate_file: '/a/c.pem', private_key_file: '/a/k.pem', ca_certificate_file: '/b/ca.pem' } } },
    }),
    'test',
  );
  expect(bootstrapCertificates(odd)).toMatch(/must sit in one directory with a known layout/);
  expect(bootstrapCertificates(parseBootstrap(JSON.stringify({ xds_servers: ISTIO.xds_servers }), 'test'))).toBeUndefined();
});
