/**
 * Where provider `control-plane` finds its CA and token: config first, then
 * MESH_CA_*, and for the address the mesh's xDS server, however it was named;
 * what is missing or misplaced is an issue naming the config path. Also
 * checked through createMesh, so a bad block is refused with
 * MESH_CONFIG_INVALID.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapFromEnv, parseBootstrap } from '../../../../src/discovery/xds/bootstrap.js';
import { createMesh, isMeshError, type MeshConfigInput } from '../../../../src/index.js';
import { controlPlaneCaIssues, controlPlaneCaSettings } from '../../../../src/security/certs/control-plane-settings.js';

const cp = { provider: 'control-plane' };
const quiet = { info() {}, warn() {}, error() {} };
const bootstrap = (creds: Record<string, unknown>) =>
  parseBootstrap(JSON.stringify({ xds_servers: [{ server_uri: 'cp.example:15012', channel_creds: [creds] }] }), 'options xds.bootstrap');

describe('control-plane CA settings', () => {
  it('takes the config first, then MESH_CA_*, then the xDS server for the address', () => {
    expect(controlPlaneCaSettings({ ...cp, address: 'cfg:1', token: 'cfg-token' }, { MESH_CA_ADDRESS: 'env:2', MESH_CA_TOKEN: 'env' }, undefined)).toEqual({
      address: 'cfg:1',
      token: 'cfg-token',
    });
    expect(controlPlaneCaSettings(cp, { MESH_CA_ADDRESS: 'env:2', MESH_CA_TOKEN_FILE: '/t' }, undefined)).toEqual({ address: 'env:2', tokenFile: '/t' });
    const plain = { MESH_XDS_SERVER: 'xds:15010', MESH_CA_TOKEN: 'tok' };
    expect(controlPlaneCaSettings(cp, plain, bootstrapFromEnv(plain))).toEqual({ address: 'xds:15010', token: 'tok' });
    const tls = { MESH_XDS_SERVER: 'tls://xds:15012', MESH_XDS_CA_FILE: '/ca.pem', MESH_CA_TOKEN: 'tok' };
    expect(controlPlaneCaSettings(cp, tls, bootstrapFromEnv(tls))).toEqual({ address: 'tls://xds:15012', token: 'tok', caFile: '/ca.pem' });
    // MESH_CA_ADDRESS wins over the xDS server.
    expect(controlPlaneCaSettings(cp, { ...plain, MESH_CA_ADDRESS: 'ca:1' }, bootstrapFromEnv(plain)).address).toBe('ca:1');
    // A token file in config wins over a token in the environment.
    expect(controlPlaneCaSettings({ ...cp, address: 'a:1', tokenFile: '/f' }, { MESH_CA_TOKEN: 'env' }, undefined)).toEqual({ address: 'a:1', tokenFile: '/f' });
    // MESH_CA_TOKEN wins over MESH_CA_TOKEN_FILE.
    expect(controlPlaneCaSettings({ ...cp, address: 'a:1' }, { MESH_CA_TOKEN: 'env', MESH_CA_TOKEN_FILE: '/f' }, undefined)).toEqual({ address: 'a:1', token: 'env' });
  });

  it('defaults the address to an xDS server named in code, with its TLS bundle', () => {
    const env = { MESH_CA_TOKEN: 'tok' };
    expect(controlPlaneCaSettings(cp, env, bootstrap({ type: 'insecure' }))).toEqual({ address: 'cp.example:15012', token: 'tok' });
    const tls = bootstrap({ type: 'tls', config: { ca_certificate_file: '/cp-ca.pem' } });
    expect(controlPlaneCaSettings(cp, env, tls)).toEqual({ address: 'tls://cp.example:15012', token: 'tok', caFile: '/cp-ca.pem' });
    // MESH_CA_CA_FILE wins over the xDS server's bundle, which wins over MESH_XDS_CA_FILE.
    expect(controlPlaneCaSettings(cp, { ...env, MESH_CA_CA_FILE: '/own.pem', MESH_XDS_CA_FILE: '/x.pem' }, tls).caFile).toBe('/own.pem');
    expect(controlPlaneCaSettings(cp, { ...env, MESH_XDS_CA_FILE: '/x.pem' }, tls).caFile).toBe('/cp-ca.pem');
    expect(controlPlaneCaIssues(cp, env, tls)).toEqual([]);
  });

  it('names what is missing or misplaced by config path', () => {
    expect(controlPlaneCaIssues(cp, {}, undefined)).toEqual([
      { path: 'mesh.security.certificates.address', message: expect.stringContaining('MESH_CA_ADDRESS') },
      { path: 'mesh.security.certificates.token', message: expect.stringContaining('MESH_CA_TOKEN_FILE') },
    ]);
    expect(controlPlaneCaIssues({ ...cp, address: 'a:1', token: 't', tokenFile: '/f', dir: '/d' }, {}, undefined).map((i) => i.path)).toEqual([
      'mesh.security.certificates.dir',
      'mesh.security.certificates.token',
    ]);
    expect(controlPlaneCaIssues({ provider: 'dev', address: 'a:1' }, {}, undefined)).toEqual([
      { path: 'mesh.security.certificates.address', message: 'applies to provider "control-plane" only' },
    ]);
    const env = { MESH_XDS_SERVER: 'xds:15010', MESH_CA_TOKEN: 'tok' };
    expect(controlPlaneCaIssues(cp, env, bootstrapFromEnv(env))).toEqual([]);
  });

  it('createMesh refuses a control-plane provider without a token, naming the path', () => {
    let err: unknown;
    try {
      createMesh({
        env: false,
        config: { mesh: { security: { certificates: { provider: 'control-plane', address: '127.0.0.1:1' } } } } as MeshConfigInput,
      });
    } catch (e) {
      err = e;
    }
    expect(isMeshError(err) && err.code).toBe('MESH_CONFIG_INVALID');
    expect((err as Error).message).toContain('mesh.security.certificates.token');
  });

  it('createMesh with xds: false has no xDS server to default to, whatever the environment says', () => {
    let err: unknown;
    try {
      createMesh({
        logger: quiet,
        env: { MESH_XDS_SERVER: '127.0.0.1:1', MESH_XDS_LISTENERS: 'reviews:9080', MESH_CA_TOKEN: 'tok' },
        xds: false,
        config: { mesh: { security: { certificates: { provider: 'control-plane' } } } } as MeshConfigInput,
      });
    } catch (e) {
      err = e;
    }
    expect(isMeshError(err) && err.code).toBe('MESH_CONFIG_INVALID');
    expect((err as Error).message).toContain('mesh.security.certificates.address: is required');
  });
});
