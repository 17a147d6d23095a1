/**
 * Environment variables: one `MESH_*` scheme (docs/env.md) plus the
 * Kubernetes downward-API names. Parsing only maps variables onto the config
 * model; validation happens with every other layer, so a bad value gets the
 * same path-precise message wherever it came from.
 */
import { ConfigError, type ConfigIssue } from './config-error.js';

export interface EnvLayer {
  /** Partial config from the environment, or undefined when nothing is set. */
  readonly raw: Record<string, unknown> | undefined;
  /** MESH_CONFIG_FILE, when set. */
  readonly configFile: string | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * A variable's value, trimmed; undefined when it is unset, empty or only
 * whitespace: the rule docs/env.md states for every variable (empty counts
 * as unset). The config layer and the xDS, CA and logger settings read
 * through here; the few modules that read a variable of their own apply
 * the same rule.
 */
export function envVar(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** Variables that map onto one config path. */
const SIMPLE: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['MESH_SERVICE_NAME', ['mesh', 'serviceName']],
  ['MESH_NAMESPACE', ['mesh', 'namespace']],
  ['MESH_CLUSTER_DOMAIN', ['mesh', 'clusterDomain']],
  ['MESH_REGION', ['mesh', 'region']],
  ['MESH_ZONE', ['mesh', 'zone']],
  ['MESH_DNS_REFRESH_INTERVAL', ['mesh', 'dnsRefreshInterval']],
  ['MESH_LB_POLICY', ['mesh', 'loadBalancer', 'policy']],
  ['MESH_TRUST_DOMAIN', ['mesh', 'security', 'trustDomain']],
  ['MESH_SERVICE_ACCOUNT', ['mesh', 'security', 'serviceAccount']],
];

export function readEnv(env: Env = process.env): EnvLayer {
  const raw: Record<string, unknown> = {};
  let any = false;
  const put = (path: readonly string[], value: unknown) => {
    let cur = raw;
    for (const seg of path.slice(0, -1)) {
      cur[seg] ??= {};
      cur = cur[seg] as Record<string, unknown>;
    }
    cur[path[path.length - 1]!] = value;
    any = true;
  };

  // POD_NAMESPACE is what the downward API sets; MESH_NAMESPACE wins when both are.
  const namespace = envVar(env, 'MESH_NAMESPACE') ?? envVar(env, 'POD_NAMESPACE');
  for (const [name, path] of SIMPLE) {
    const value = name === 'MESH_NAMESPACE' ? namespace : envVar(env, name);
    if (value !== undefined) put(path, value);
  }

  const services = envVar(env, 'MESH_SERVICES');
  if (services !== undefined) put(['services'], parseServices(services));

  return { raw: any ? raw : undefined, configFile: envVar(env, 'MESH_CONFIG_FILE') };
}

/**
 * `MESH_SERVICES="echo=127.0.0.1:9001,127.0.0.1:9002;reviews=dns:reviews.internal:9080"`:
 * services separated by `;`, each `name=` followed by either a discovery URI
 * or a comma-separated endpoint list.
 */
export function parseServices(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  text.split(';').forEach((entry, i) => {
    const item = entry.trim();
    if (item === '') return;
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) {
      issues.push({
        path: `MESH_SERVICES[${i}]`,
        message: `${JSON.stringify(item)} is not name=endpoints or name=scheme:target`,
      });
      return;
    }
    const name = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (name in out) {
      issues.push({ path: `MESH_SERVICES[${i}]`, message: `service "${name}" is listed twice` });
      return;
    }
    out[name] = isDiscoveryUri(value)
      ? { discovery: value }
      : {
          endpoints: value
            .split(',')
            .map((e) => e.trim())
            .filter((e) => e !== ''),
        };
  });
  if (issues.length > 0) throw new ConfigError('env', issues);
  return out;
}

/** `dns:host:port` is a URI; `10.0.0.1:80` and `host:80` are endpoints. */
function isDiscoveryUri(value: string): boolean {
  const first = value.split(',')[0]!;
  const colon = first.indexOf(':');
  if (colon <= 0) return false;
  const scheme = first.slice(0, colon);
  return /^[a-z][a-z0-9+.-]*$/.test(scheme) && !/^\d+$/.test(first.slice(colon + 1)) && !first.startsWith('[');
}
