/**
 * Where provider `control-plane` finds its CA and token: config first, then
 * MESH_CA_*, and for the address the xDS server; what is missing or
 * misplaced is an issue naming the config path. Also checked through
 * createMesh, so a bad block is refused with MESH_CONFIG_INVALID.
 */
import { describe, expect, it } from 'vitest';
import { createMesh, isMeshError, type MeshConfigInput } from '../../../../src/index.js';
import { controlPlaneCaIssues, controlPlaneCaSettings } from '../../../../src/security/certs/control-plane-settings.js';

const cp = { provider: 'control-plane' };

describe('control-plane CA settings', () => {
  it('takes the config first, then MESH_CA_*, then the xDS server for the address', () => {
    expect(controlPlaneCaSettings({ ...cp, address: 'cfg:1', token: 'cfg-token' }, { MESH_CA_ADDRESS: 'env:2', MESH_CA_TOKEN: 'env' })).toEqual({
      address: 'cfg:1',
      token: 'cfg-token',
    });
    expect(controlPlaneCaSettings(cp, { MESH_CA_ADDRESS: 'env:2', MESH_CA_TOKEN_FILE: '/t' })).toEqual({ address: 'env:2', tokenFile: '/t' });
    expect(controlPlaneCaSettings(cp, { MESH_XDS_SERVER: 'xds:15010', MESH_CA_TOKEN: 'tok' })).toEqual({ address: 'xds:15010', token: 'tok' });
    expect(controlPlaneCaSettings(cp, { MESH_XDS_SERVER: 'tls://xds:15012', MESH_XDS_CA_FILE: '/ca.pem', MESH_CA_TOKEN: 'tok' })).toEqual({
      address: 'tls://xds:15012',
      token: 'tok',
      caFile: '/ca.pem',
    });
    // A token file in config wins over a token in the environment.
    expect(controlPlaneCaSettings({ ...cp, address: 'a:1', tokenFile: '/f' }, { MESH_CA_TOKEN: 'env' })).toEqual({ address: 'a:1', tokenFile: '/f' });
  });

  it('names what is missing or misplaced by config path', () => {
    expect(controlPlaneCaIssues(cp, {})).toEqual([
      { path: 'mesh.security.certificates.address', message: expect.stringContaining('MESH_CA_ADDRESS') },
      { path: 'mesh.security.certificates.token', message: expect.stringContaining('MESH_CA_TOKEN_FILE') },
    ]);
    expect(controlPlaneCaIssues({ ...cp, address: 'a:1', token: 't', tokenFile: '/f', dir: '/d' }, {}).map((i) => i.path)).toEqual([
      'mesh.security.certificates.dir',
      'mesh.security.certificates.token',
    ]);
    expect(controlPlaneCaIssues({ provider: 'dev', address: 'a:1' }, {})).toEqual([
      { path: 'mesh.security.certificates.address', message: 'applies to provider "control-plane" only' },
    ]);
    expect(controlPlaneCaIssues(cp, { MESH_XDS_SERVER: 'xds:15010', MESH_CA_TOKEN: 'tok' })).toEqual([]);
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
});
