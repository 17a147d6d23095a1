/**
 * Where the control plane is and who we are to it: gRPC's xDS bootstrap
 * (GRPC_XDS_BOOTSTRAP names a file, GRPC_XDS_BOOTSTRAP_CONFIG holds the JSON
 * itself; the format istiod's proxyless agent writes), or the mesh's short
 * form MESH_XDS_SERVER=host:port (or tls://host:port, …). A bad bootstrap
 * is a ConfigError naming the field, e.g. `xds_servers[0].channel_creds[0].type`.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError } from '../../config/config-error.js';
import { type Env, envVar } from '../../config/env.js';

export type ChannelCreds =
  | { readonly type: 'insecure' }
  | { readonly type: 'tls'; readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };

export interface XdsNode {
  readonly id: string;
  readonly cluster: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly locality: { readonly region: string; readonly zone: string; readonly subZone: string };
}

export interface CertificateProviderConfig {
  readonly pluginName: string;
  readonly config: Readonly<Record<string, unknown>>;
}

export interface XdsBootstrap {
  /** Where this came from, for messages: `GRPC_XDS_BOOTSTRAP /etc/istio/proxy/grpc-bootstrap.json`. */
  readonly source: string;
  /** The gRPC target of the control plane, e.g. `unix:///etc/istio/proxy/XDS` or `istiod.istio-system.svc:15010`. */
  readonly serverUri: string;
  readonly creds: ChannelCreds;
  readonly serverFeatures: readonly string[];
  readonly node: XdsNode;
  readonly certificateProviders: Readonly<Record<string, CertificateProviderConfig>>;
  /** `server_listener_resource_name_template` (gRFC A36): names a server's inbound listener, `%s` its `ip:port`. */
  readonly serverListenerTemplate?: string | undefined;
}

class Reader {
  constructor(
    readonly source: string,
    readonly issues: { path: string; message: string }[],
  ) {}

  fail(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  obj(value: unknown, path: string, required: boolean): Record<string, unknown> | undefined {
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, value === undefined ? 'is required' : `must be an object, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value as Record<string, unknown>;
  }

  str(value: unknown, path: string, required: boolean): string | undefined {
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value === '') {
      this.fail(path, value === undefined ? 'is required' : `must be a non-empty string, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }
}

function channelCreds(r: Reader, list: unknown, path: string): ChannelCreds | undefined {
  if (!Array.isArray(list) || list.length === 0) {
    r.fail(path, 'must list at least one credential type (insecure or tls)');
    return undefined;
  }
  const seen: string[] = [];
  for (const [i, entry] of list.entries()) {
    const c = r.obj(entry, `${path}[${i}]`, true);
    const type = r.str(c?.type, `${path}[${i}].type`, true);
    if (type === undefined || c === undefined) return undefined;
    seen.push(type);
    if (type === 'insecure') return { type };
    if (type === 'tls') {
      const cfg = r.obj(c.config, `${path}[${i}].config`, false) ?? {};
      const caFile = r.str(cfg.ca_certificate_file, `${path}[${i}].config.ca_certificate_file`, false);
      const certFile = r.str(cfg.certificate_file, `${path}[${i}].config.certificate_file`, false);
      const keyFile = r.str(cfg.private_key_file, `${path}[${i}].config.private_key_file`, false);
      if ((certFile === undefined) !== (keyFile === undefined)) {
        r.fail(`${path}[${i}].config`, 'certificate_file and private_key_file go together');
      }
      return { type, ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) };
    }
    // gRPC takes the first type it supports; so does the mesh.
  }
  const why = seen.includes('google_default')
    ? '; google_default needs Google Cloud credentials (ALTS or OAuth) that the mesh does not implement: use tls or insecure'
    : '';
  r.fail(path, `lists no supported credential type (got ${seen.map((s) => JSON.stringify(s)).join(', ')}; the mesh supports insecure and tls)${why}`);
  return undefined;
}

function nodeOf(r: Reader, value: unknown, env: Env): XdsNode {
  const n = r.obj(value, 'node', false) ?? {};
  const locality = r.obj(n.locality, 'node.locality', false) ?? {};
  const written = r.obj(n.metadata, 'node.metadata', false) ?? {};
  // The control plane picks a server's inbound policies by NAMESPACE (and LABELS), as istiod does.
  const namespace = envVar(env, 'MESH_NAMESPACE') ?? envVar(env, 'POD_NAMESPACE');
  const metadata = written.NAMESPACE === undefined && namespace !== undefined ? { ...written, NAMESPACE: namespace } : written;
  return {
    id: r.str(n.id, 'node.id', false) ?? envVar(env, 'MESH_XDS_NODE_ID') ?? `proxyless~${hostname()}~${process.pid}`,
    cluster: r.str(n.cluster, 'node.cluster', false) ?? '',
    metadata,
    locality: {
      region: r.str(locality.region, 'node.locality.region', false) ?? '',
      zone: r.str(locality.zone, 'node.locality.zone', false) ?? '',
      subZone: r.str(locality.sub_zone, 'node.locality.sub_zone', false) ?? '',
    },
  };
}

/** Parse bootstrap JSON text; throws ConfigError naming each bad field. */
export function parseBootstrap(text: string, source: string, env: Env = {}): XdsBootstrap {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(source, [{ path: '', message: `is not valid JSON (${(err as Error).message})` }]);
  }
  const r = new Reader(source, []);
  const root = r.obj(json, '', true) ?? {};
  const servers = root.xds_servers;
  let serverUri: string | undefined;
  let creds: ChannelCreds | undefined;
  let serverFeatures: string[] = [];
  if (!Array.isArray(servers) || servers.length === 0) {
    r.fail('xds_servers', 'must list at least one server');
  } else {
    // gRPC uses the first server (the rest are fallbacks, gRFC A71); so does the mesh.
    const s = r.obj(servers[0], 'xds_servers[0]', true);
    serverUri = r.str(s?.server_uri, 'xds_servers[0].server_uri', true);
    creds = channelCreds(r, s?.channel_creds, 'xds_servers[0].channel_creds');
    if (s?.server_features !== undefined) {
      if (!Array.isArray(s.server_features) || s.server_features.some((f) => typeof f !== 'string')) {
        r.fail('xds_servers[0].server_features', 'must be a list of strings');
      } else serverFeatures = s.server_features as string[];
    }
  }
  const node = nodeOf(r, root.node, env);
  const certificateProviders: Record<string, CertificateProviderConfig> = {};
  const providers = r.obj(root.certificate_providers, 'certificate_providers', false) ?? {};
  for (const [name, value] of Object.entries(providers)) {
    const p = r.obj(value, `certificate_providers.${name}`, true);
    const pluginName = r.str(p?.plugin_name, `certificate_providers.${name}.plugin_name`, true);
    if (pluginName !== undefined) {
      certificateProviders[name] = { pluginName, config: r.obj(p?.config, `certificate_providers.${name}.config`, false) ?? {} };
    }
  }
  const serverListenerTemplate = r.str(root.server_listener_resource_name_template, 'server_listener_resource_name_template', false);
  if (r.issues.length > 0 || serverUri === undefined || creds === undefined) throw new ConfigError(source, r.issues);
  return { source, serverUri, creds, serverFeatures, node, certificateProviders, serverListenerTemplate };
}

/**
 * An optional scheme, then a gRPC target: `host:port`, `dns:///host:port`
 * (or `dns://dns-server/host:port`) or `unix:path`. `tls://` and `https://`
 * mean TLS (the system's roots, or MESH_XDS_CA_FILE); no scheme, `http://`,
 * `grpc://` and `plaintext://` mean plaintext. The node id comes from
 * MESH_XDS_NODE_ID through parseBootstrap.
 */
function fromServerVar(value: string, env: Env): XdsBootstrap {
  const source = 'env MESH_XDS_SERVER';
  const m = /^(?:(tls|https|http|grpc|plaintext):\/\/)?(.+)$/.exec(value);
  const scheme = m?.[1];
  const target = m?.[2] ?? '';
  if (!/^unix:\S+$/.test(target) && !/^(?:dns:\/\/[^\s/]*\/)?[^\s/]+:\d{1,5}$/.test(target)) {
    throw new ConfigError(source, [
      {
        path: 'MESH_XDS_SERVER',
        message: `${JSON.stringify(value)} is not host:port, dns:///host:port or unix:path (optionally after tls://, https://, http://, grpc:// or plaintext://)`,
      },
    ]);
  }
  const tls = scheme === 'tls' || scheme === 'https';
  const caFile = envVar(env, 'MESH_XDS_CA_FILE');
  const text = JSON.stringify({
    xds_servers: [{ server_uri: target, channel_creds: [tls ? { type: 'tls', ...(caFile !== undefined ? { config: { ca_certificate_file: caFile } } : {}) } : { type: 'insecure' }] }],
  });
  return parseBootstrap(text, source, env);
}

/** The bootstrap the environment asks for, or undefined when it asks for none. */
export function bootstrapFromEnv(env: Env): XdsBootstrap | undefined {
  const file = envVar(env, 'GRPC_XDS_BOOTSTRAP');
  if (file !== undefined) {
    const source = `GRPC_XDS_BOOTSTRAP ${file}`;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(source, [{ path: '', message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }]);
    }
    return parseBootstrap(text, source, env);
  }
  const inline = envVar(env, 'GRPC_XDS_BOOTSTRAP_CONFIG');
  if (inline !== undefined) return parseBootstrap(inline, 'GRPC_XDS_BOOTSTRAP_CONFIG', env);
  const server = envVar(env, 'MESH_XDS_SERVER');
  if (server !== undefined) return fromServerVar(server, env);
  return undefined;
}
