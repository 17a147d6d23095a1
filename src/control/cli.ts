/**
 * `proxyless control-plane`: serve xDS (and sign workload certificates) from
 * a mesh config file; `proxyless control-plane status`: what it serves and
 * what each client acknowledged.
 *
 *   control-plane (--config FILE | --kubernetes [--namespace NS] [--kubeconfig FILE]) [--host 0.0.0.0] [--port 15010]
 *                 [--status-host 127.0.0.1] [--status-port 15014]
 *                 [--ca-dir DIR [--trust-domain TD] [--ca-tokens FILE]] [--inline-routes]
 *   control-plane status [--url http://127.0.0.1:15014] [--json]
 *
 * Exit codes: 0 done, 1 failed (bad config, port in use), 2 usage error.
 */
import { parseArgs } from 'node:util';
import { envVar } from '../config/env.js';
import { isMeshError } from '../errors.js';
import { loadOrCreateCaDirectory } from '../security/certs/ca-store.js';
import type { CliOutput } from '../security/certs-cli.js';
import { stderrLogger } from '../telemetry/logger.js';
import { caAuthenticator } from './ca-auth.js';
import { readTokenFile } from './ca-tokens.js';
import { ControlPlane, type ControlPlaneStatus } from './control-plane.js';
import { KubernetesInput } from './kubernetes/kubernetes-input.js';
import { startStatusServer } from './status-server.js';

const USAGE = `usage:
  proxyless control-plane --config FILE [--host 0.0.0.0] [--port 15010]
  proxyless control-plane --kubernetes [--namespace NS (default: all)] [--kubeconfig FILE] [--host ...] [--port ...]
                          [--status-host 127.0.0.1] [--status-port 15014]
                          [--ca-dir DIR [--trust-domain cluster.local] [--ca-tokens FILE]] [--inline-routes]
  proxyless control-plane status [--url http://127.0.0.1:15014] [--json]
`;

class UsageError extends Error {}

/** Resolves with an exit code, or -1 while serving (the process stays up until SIGINT/SIGTERM). */
export async function runControlPlaneCommand(argv: readonly string[], out: CliOutput): Promise<number> {
  try {
    if (argv[0] === 'status') return await printStatus(argv.slice(1), out);
    if (argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
      out.stdout.write(USAGE);
      return 0;
    }
    return await serve(argv, out);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      out.stderr.write(`proxyless control-plane: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    const code = isMeshError(err) ? ` [${err.code}]` : '';
    out.stderr.write(`proxyless control-plane: ${(err as Error).message ?? String(err)}${code}\n`);
    return 1;
  }
}

function portOf(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port from 0 to 65535, got ${JSON.stringify(text)}`);
  return n;
}

async function serve(argv: readonly string[], out: CliOutput): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string' },
      kubernetes: { type: 'boolean', default: false },
      namespace: { type: 'string' },
      kubeconfig: { type: 'string' },
      host: { type: 'string', default: '0.0.0.0' },
      port: { type: 'string' },
      'status-host': { type: 'string', default: '127.0.0.1' },
      'status-port': { type: 'string' },
      'ca-dir': { type: 'string' },
      'trust-domain': { type: 'string' },
      'ca-tokens': { type: 'string' },
      'inline-routes': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.config === undefined && !values.kubernetes) throw new UsageError('missing --config FILE (or --kubernetes)');
  if (values.config !== undefined && values.kubernetes) throw new UsageError('give either --config FILE or --kubernetes, not both');
  if (!values.kubernetes && (values.namespace !== undefined || values.kubeconfig !== undefined)) {
    throw new UsageError('--namespace and --kubeconfig go with --kubernetes');
  }
  if (values['ca-dir'] === undefined && (values['ca-tokens'] !== undefined || values['trust-domain'] !== undefined)) {
    throw new UsageError('--ca-tokens and --trust-domain need --ca-dir (the CA to sign with)');
  }
  // Info level by default: an operator wants to see clients come and go, and config changes land.
  // envVar: a blank MESH_LOG_LEVEL counts as unset (docs/env.md), so it means info here too, not the library's warn.
  const logger = stderrLogger(envVar(process.env, 'MESH_LOG_LEVEL') ?? 'info');
  let ca: ConstructorParameters<typeof ControlPlane>[0]['ca'];
  if (values['ca-dir'] !== undefined) {
    const grants = values['ca-tokens'] !== undefined ? readTokenFile(values['ca-tokens']) : [];
    const { ca: authority } = await loadOrCreateCaDirectory(values['ca-dir'], {
      trustDomain: values['trust-domain'] ?? 'cluster.local',
      logger,
    });
    if (grants.length === 0) logger.warn('the CA has no bootstrap tokens (--ca-tokens): it will only renew certificates it issued');
    ca = { authority, authenticate: caAuthenticator(authority, grants) };
  }
  const input = values.kubernetes
    ? new KubernetesInput({
        logger,
        ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
        ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
      })
    : undefined;
  const cp = new ControlPlane({
    ...(input !== undefined ? { input } : { configFile: values.config! }),
    host: values.host,
    port: portOf(values.port, 15010, '--port'),
    logger,
    inlineRoutes: values['inline-routes'],
    ...(ca !== undefined ? { ca } : {}),
  });
  const port = await cp.start();
  const status = await startStatusServer(cp, values['status-host'], portOf(values['status-port'], 15014, '--status-port'));
  out.stdout.write(
    `proxyless control plane: xDS${ca ? ' and CA' : ''} on ${values.host}:${port}, status on http://${values['status-host']}:${status.port}/status\n` +
      `  serving ${input?.description ?? values.config} as version ${cp.snapshot.version}; ${input ? 'cluster changes are followed as they happen' : 'edits are picked up as they are saved'}\n`,
  );
  const stop = () => {
    void Promise.all([cp.close(), status.close()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

async function printStatus(argv: readonly string[], out: CliOutput): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { url: { type: 'string', default: 'http://127.0.0.1:15014' }, json: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: false,
  });
  const res = await fetch(new URL('/status', values.url), { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${values.url}/status answered ${res.status}`);
  const body = (await res.json()) as ControlPlaneStatus;
  out.stdout.write(values.json ? `${JSON.stringify(body, null, 2)}\n` : formatStatus(body));
  return 0;
}

const SHORT_TYPE: Readonly<Record<string, string>> = {
  'type.googleapis.com/envoy.config.listener.v3.Listener': 'LDS',
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration': 'RDS',
  'type.googleapis.com/envoy.config.cluster.v3.Cluster': 'CDS',
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment': 'EDS',
};

/** The status as a table: one line per client and type. */
export function formatStatus(s: ControlPlaneStatus): string {
  const lines = [
    `config ${s.configFile}: version ${s.version} (since ${s.versionCreatedAt})`,
    `resources: ${Object.entries(s.resources)
      .map(([t, names]) => `${SHORT_TYPE[t] ?? t} ${names.length}`)
      .join(', ')}`,
  ];
  if (s.lastRejectedConfig) lines.push(`last rejected edit (${s.lastRejectedConfig.at}): ${s.lastRejectedConfig.message}`);
  lines.push(`${s.clients.length} client${s.clients.length === 1 ? '' : 's'} connected`);
  for (const c of s.clients) {
    // Where it is decides the order of its endpoints (local-endpoints.ts), so it is worth seeing at a glance.
    const place = c.locality.region !== '' || c.locality.zone !== '' ? `, in ${c.locality.region || '?'}/${c.locality.zone || '?'}` : '';
    lines.push(`  ${c.nodeId} (${c.peer}, ${c.userAgent || 'unknown agent'}, via ${c.service}${place})`);
    for (const sub of c.subscriptions) {
      const state =
        sub.lastNack !== undefined && sub.lastNack.version === sub.sentVersion
          ? `NACKED v${sub.lastNack.version}: ${sub.lastNack.message}`
          : sub.ackedVersion === sub.sentVersion
            ? `ACKED v${sub.ackedVersion}`
            : `sent v${sub.sentVersion ?? '-'}, acked v${sub.ackedVersion ?? '-'}`;
      const names = sub.wildcard ? '*' : sub.names.join(', ');
      lines.push(`    ${(SHORT_TYPE[sub.typeUrl] ?? sub.typeUrl).padEnd(4)} ${state}  [${names}]`);
    }
  }
  return `${lines.join('\n')}\n`;
}
