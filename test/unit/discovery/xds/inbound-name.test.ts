/**
 * Which inbound listener a process subscribes to: MESH_XDS_INBOUND (or the
 * `inbound` option) as `ip:port` or a port, named by the bootstrap's
 * template, istiod's by default; the node's NAMESPACE from the environment
 * when the bootstrap has none.
 */
import { describe, expect, it } from 'vitest';
import { parseBootstrap } from '../../../../src/discovery/xds/bootstrap.js';
import { inboundFrom } from '../../../../src/discovery/xds/start-client.js';

const text = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ xds_servers: [{ server_uri: 'cp:15010', channel_creds: [{ type: 'insecure' }] }], ...extra });

describe('the inbound listener name', () => {
  it('follows the bootstrap template, istiod by default', () => {
    const istio = parseBootstrap(text(), 'test');
    expect(inboundFrom(undefined, { MESH_XDS_INBOUND: '10.0.0.7:8080' }, istio)).toBe('xds.istio.io/grpc/lds/inbound/10.0.0.7:8080');
    const own = parseBootstrap(text({ server_listener_resource_name_template: 'grpc/server?listening_address=%s' }), 'test');
    expect(inboundFrom({ inbound: '[::1]:9000' }, {}, own)).toBe('grpc/server?listening_address=[::1]:9000');
    expect(inboundFrom(undefined, {}, istio)).toBeUndefined();
  });

  it('takes the pod IP for a bare port, and refuses anything else', () => {
    const b = parseBootstrap(text(), 'test');
    expect(inboundFrom(undefined, { MESH_XDS_INBOUND: '8080', POD_IP: '10.1.2.3' }, b)).toBe('xds.istio.io/grpc/lds/inbound/10.1.2.3:8080');
    expect(inboundFrom(undefined, { MESH_XDS_INBOUND: '8080' }, b)).toBe('xds.istio.io/grpc/lds/inbound/0.0.0.0:8080');
    expect(() => inboundFrom(undefined, { MESH_XDS_INBOUND: 'host:99999' }, b)).toThrow(/MESH_XDS_INBOUND: "host:99999" is not ip:port or a port/);
  });

  it('sends NAMESPACE from the environment when the bootstrap node has none', () => {
    expect(parseBootstrap(text(), 'test', { POD_NAMESPACE: 'shop' }).node.metadata).toEqual({ NAMESPACE: 'shop' });
    const written = parseBootstrap(text({ node: { metadata: { NAMESPACE: 'own' } } }), 'test', { MESH_NAMESPACE: 'shop' });
    expect(written.node.metadata).toEqual({ NAMESPACE: 'own' });
  });
});
