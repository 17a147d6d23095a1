/**
 * docs/env.md: an empty or whitespace-only variable counts as unset, and a
 * set one is read trimmed, wherever the mesh reads the environment: the env
 * config layer, the xDS bootstrap variables, the inbound listener's pod IP,
 * the trust domain, the control-plane CA variables and the log level.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { envVar, readEnv } from '../../../src/config/env.js';
import { bootstrapFromEnv, parseBootstrap } from '../../../src/discovery/xds/bootstrap.js';
import { inboundFrom, listenersFrom } from '../../../src/discovery/xds/start-client.js';
import { createMesh } from '../../../src/index.js';
import { controlPlaneCaIssues, controlPlaneCaSettings } from '../../../src/security/certs/control-plane-settings.js';
import { MeshSecurity } from '../../../src/security/mesh-security.js';
import { stderrLogger } from '../../../src/telemetry/logger.js';

const BLANKS = ['', ' ', '\t \n'];
const quiet = { info() {}, warn() {}, error() {} };
const bootstrapText = (node: Record<string, unknown> = {}) =>
  JSON.stringify({ xds_servers: [{ server_uri: 'cp:15010', channel_creds: [{ type: 'insecure' }] }], node });

describe('blank environment variables count as unset', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('envVar trims, and gives undefined for unset, empty and whitespace-only', () => {
    expect(envVar({}, 'X')).toBeUndefined();
    for (const blank of BLANKS) expect(envVar({ X: blank }, 'X')).toBeUndefined();
    expect(envVar({ X: '  a b ' }, 'X')).toBe('a b');
    expect(readEnv({ MESH_TRUST_DOMAIN: ' ', MESH_CONFIG_FILE: '\t' })).toEqual({ raw: undefined, configFile: undefined });
  });

  it('GRPC_XDS_BOOTSTRAP, GRPC_XDS_BOOTSTRAP_CONFIG and MESH_XDS_SERVER: blank names no control plane', () => {
    for (const blank of BLANKS) {
      expect(bootstrapFromEnv({ GRPC_XDS_BOOTSTRAP: blank, GRPC_XDS_BOOTSTRAP_CONFIG: blank, MESH_XDS_SERVER: blank })).toBeUndefined();
    }
    // A blank GRPC_XDS_BOOTSTRAP falls through to the next variable rather than naming a file.
    expect(bootstrapFromEnv({ GRPC_XDS_BOOTSTRAP: ' ', MESH_XDS_SERVER: ' cp:18000 ' })?.serverUri).toBe('cp:18000');
    expect(bootstrapFromEnv({ GRPC_XDS_BOOTSTRAP_CONFIG: ` ${bootstrapText()}\n` })?.serverUri).toBe('cp:15010');
  });

  it('createMesh() starts with no xDS client when the xDS variables are blank', async () => {
    const mesh = createMesh({ logger: quiet, env: { MESH_XDS_SERVER: '  ', GRPC_XDS_BOOTSTRAP: ' ', MESH_XDS_LISTENERS: ' ' } });
    try {
      expect(mesh.xdsStatus()).toBeUndefined();
    } finally {
      await mesh.destroy();
    }
  });

  it('MESH_XDS_NODE_ID, MESH_NAMESPACE and MESH_XDS_CA_FILE: blank is unset, set is trimmed', () => {
    for (const blank of BLANKS) {
      const fromServer = bootstrapFromEnv({ MESH_XDS_SERVER: 'tls://cp:15012', MESH_XDS_NODE_ID: blank, MESH_XDS_CA_FILE: blank });
      expect(fromServer?.node.id).toMatch(/^proxyless~.+~\d+$/);
      expect(fromServer?.creds).toEqual({ type: 'tls' });
      expect(parseBootstrap(bootstrapText(), 'test', { MESH_XDS_NODE_ID: blank }).node.id).toMatch(/^proxyless~/);
      expect(parseBootstrap(bootstrapText(), 'test', { MESH_NAMESPACE: blank, POD_NAMESPACE: 'shop' }).node.metadata).toEqual({ NAMESPACE: 'shop' });
      expect(parseBootstrap(bootstrapText(), 'test', { MESH_NAMESPACE: blank }).node.metadata).toEqual({});
    }
    const padded = bootstrapFromEnv({ MESH_XDS_SERVER: 'tls://cp:15012', MESH_XDS_NODE_ID: ' n1 ', MESH_XDS_CA_FILE: ' /etc/ca.pem ' });
    expect(padded?.node.id).toBe('n1');
    expect(padded?.creds).toEqual({ type: 'tls', caFile: '/etc/ca.pem' });
    expect(parseBootstrap(bootstrapText(), 'test', { MESH_NAMESPACE: ' shop ' }).node.metadata).toEqual({ NAMESPACE: 'shop' });
  });

  it('MESH_POD_IP and POD_IP: blank is unset, set is trimmed', () => {
    const b = parseBootstrap(bootstrapText(), 'test');
    const name = (env: Record<string, string>) => inboundFrom(undefined, { MESH_XDS_INBOUND: '8080', ...env }, b);
    for (const blank of BLANKS) {
      expect(name({ MESH_POD_IP: blank, POD_IP: '10.1.2.3' })).toBe('xds.istio.io/grpc/lds/inbound/10.1.2.3:8080');
      expect(name({ MESH_POD_IP: blank, POD_IP: blank })).toBe('xds.istio.io/grpc/lds/inbound/0.0.0.0:8080');
    }
    expect(name({ MESH_POD_IP: ' 10.4.5.6 ' })).toBe('xds.istio.io/grpc/lds/inbound/10.4.5.6:8080');
    expect(inboundFrom(undefined, { MESH_XDS_INBOUND: ' ' }, b)).toBeUndefined();
    expect(listenersFrom(undefined, { MESH_XDS_LISTENERS: ' ' })).toEqual([]);
  });

  it('MESH_TRUST_DOMAIN: a blank one leaves the default trust domain', () => {
    for (const blank of BLANKS) expect(new MeshSecurity({ MESH_TRUST_DOMAIN: blank }, quiet).trustDomain()).toBe('cluster.local');
  });

  it('MESH_CA_ADDRESS, MESH_CA_TOKEN, MESH_CA_TOKEN_FILE and MESH_CA_CA_FILE: blank is unset, set is trimmed', () => {
    const cp = { provider: 'control-plane' };
    for (const blank of BLANKS) {
      const env = { MESH_CA_ADDRESS: blank, MESH_CA_TOKEN: blank, MESH_CA_TOKEN_FILE: '/t', MESH_CA_CA_FILE: blank, MESH_XDS_CA_FILE: '/x.pem' };
      expect(controlPlaneCaIssues(cp, env, undefined).map((i) => i.path)).toEqual(['mesh.security.certificates.address']);
      expect(controlPlaneCaSettings({ ...cp, address: 'a:1' }, env, undefined)).toEqual({ address: 'a:1', tokenFile: '/t', caFile: '/x.pem' });
    }
    expect(controlPlaneCaSettings(cp, { MESH_CA_ADDRESS: ' tls://ca:1 ', MESH_CA_TOKEN: ' tok ', MESH_CA_CA_FILE: ' /ca.pem ' }, undefined)).toEqual({
      address: 'tls://ca:1',
      token: 'tok',
      caFile: '/ca.pem',
    });
  });

  it('MESH_LOG_LEVEL: trimmed and in any case; blank or unknown means warn', () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const levelsLogged = (logger: ReturnType<typeof stderrLogger>): string[] => {
      lines.length = 0;
      logger.info('i');
      logger.warn('w');
      logger.error('e');
      return lines.map((l) => JSON.parse(l).level as string);
    };
    expect(levelsLogged(stderrLogger('info '))).toEqual(['info', 'warn', 'error']);
    expect(levelsLogged(stderrLogger(' INFO'))).toEqual(['info', 'warn', 'error']);
    expect(levelsLogged(stderrLogger(' error '))).toEqual(['error']);
    for (const blank of BLANKS) expect(levelsLogged(stderrLogger(blank))).toEqual(['warn', 'error']);
    // Names that only an object's prototype has are unknown, not a level.
    expect(levelsLogged(stderrLogger('toString'))).toEqual(['warn', 'error']);
    // The default argument reads the variable the same way.
    vi.stubEnv('MESH_LOG_LEVEL', ' info\n');
    expect(levelsLogged(stderrLogger())).toEqual(['info', 'warn', 'error']);
  });
});
