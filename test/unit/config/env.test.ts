import { expect, test } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { readEnv } from '../../../src/config/env.js';
import { validateConfig } from '../../../src/config/validate.js';

test('MESH_* variables map onto the config model', () => {
  const { raw, configFile } = readEnv({
    MESH_SERVICE_NAME: 'frontend',
    MESH_NAMESPACE: 'shop',
    MESH_ZONE: 'us-east-1a',
    MESH_REGION: 'us-east-1',
    MESH_CLUSTER_DOMAIN: 'corp.local',
    MESH_LB_POLICY: 'least-request',
    MESH_DNS_REFRESH_INTERVAL: '10s',
    MESH_CONFIG_FILE: '/etc/mesh/mesh.yaml',
    MESH_SERVICES: 'echo=127.0.0.1:9001, 127.0.0.1:9002; reviews=dns:reviews.internal:9080;',
  });
  expect(configFile).toBe('/etc/mesh/mesh.yaml');
  const config = validateConfig(raw, 'env');
  expect(config.mesh).toMatchObject({
    serviceName: 'frontend',
    namespace: 'shop',
    zone: 'us-east-1a',
    region: 'us-east-1',
    clusterDomain: 'corp.local',
    dnsRefreshInterval: 10_000,
    loadBalancer: { policy: 'least-request' },
  });
  expect(config.services.echo!.endpoints).toEqual([
    { address: '127.0.0.1', port: 9001 },
    { address: '127.0.0.1', port: 9002 },
  ]);
  expect(config.services.reviews!.discovery).toBe('dns:reviews.internal:9080');
});

test('POD_NAMESPACE (downward API) sets the namespace unless MESH_NAMESPACE does', () => {
  expect(readEnv({ POD_NAMESPACE: 'from-pod' }).raw).toEqual({ mesh: { namespace: 'from-pod' } });
  expect(readEnv({ POD_NAMESPACE: 'from-pod', MESH_NAMESPACE: 'explicit' }).raw).toEqual({
    mesh: { namespace: 'explicit' },
  });
});

test('an empty environment contributes nothing', () => {
  expect(readEnv({ HOME: '/root', MESH_ZONE: '  ' })).toEqual({ raw: undefined, configFile: undefined });
});

test('a malformed MESH_SERVICES entry is a ConfigError naming the entry', () => {
  let err: unknown;
  try {
    readEnv({ MESH_SERVICES: 'echo=127.0.0.1:1;broken;echo=127.0.0.1:2' });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).issues).toEqual([
    { path: 'MESH_SERVICES[1]', message: '"broken" is not name=endpoints or name=scheme:target' },
    { path: 'MESH_SERVICES[2]', message: 'service "echo" is listed twice' },
  ]);
});

test('a bad env value is reported at its config path', () => {
  const { raw } = readEnv({ MESH_LB_POLICY: 'fastest' });
  expect(() => validateConfig(raw, 'env')).toThrow(
    /invalid config from env: mesh\.loadBalancer\.policy: must be one of .*got "fastest"/,
  );
});
