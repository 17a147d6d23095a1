/**
 * The sidecar proxies the load bench compares against: Debian's haproxy and
 * nginx, run by the bench itself (never the system services) with configs
 * generated into a temp dir, on 127.0.0.1 ports the OS picked as free.
 *
 * A proxy process has one or more listeners; each listener round-robins over
 * its upstream ports with keep-alive on both sides. One process per side,
 * one worker thread each, access logs off:
 *   one hop:  client -> [proxy :A -> r1|r2|r3]
 *   two hops: client -> [client sidecar :A -> s1|s2|s3] -> [server sidecars s_i -> r_i]
 * (the three server-side sidecars share one process: the cheaper setup for the
 * proxies, so the comparison errs in their favour).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pinned, tiedToUs, track } from './children.js';

export type ProxyKind = 'haproxy' | 'nginx';

export interface Listener {
  port: number;
  upstreams: number[];
}

export interface Topology {
  /** The port the client sends to. */
  entryPort: number;
  /** Processes, started last-hop first. */
  processes: { name: string; listeners: Listener[] }[];
}

export interface RunningTopology {
  entryUrl: string;
  children: ChildProcess[];
  stop(): void;
}

/** Asks the OS for `n` distinct free ports on 127.0.0.1 (bind port 0, read it, close). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** One hop: client -> proxy -> replicas. */
export async function oneHop(replicaPorts: number[]): Promise<Topology> {
  const [entry] = await freePorts(1);
  return { entryPort: entry!, processes: [{ name: 'sidecar', listeners: [{ port: entry!, upstreams: replicaPorts }] }] };
}

/** Two hops: client -> client-side sidecar -> server-side sidecar (one per replica) -> replica. */
export async function twoHops(replicaPorts: number[]): Promise<Topology> {
  const ports = await freePorts(replicaPorts.length + 1);
  const entry = ports[0]!;
  const serverSide = ports.slice(1);
  return {
    entryPort: entry,
    processes: [
      {
        name: 'server-sidecars',
        listeners: replicaPorts.map((replica, i) => ({ port: serverSide[i]!, upstreams: [replica] })),
      },
      { name: 'client-sidecar', listeners: [{ port: entry, upstreams: serverSide }] },
    ],
  };
}

/** The proxy's binary, or undefined when it is not installed. */
export function findBinary(kind: ProxyKind): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const file = join(dir, kind);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

/** `haproxy -v` / `nginx -v`, first line. */
export function versionOf(binary: string): string {
  const out = spawnSync(binary, ['-v'], { encoding: 'utf8', timeout: 5000 });
  const text = `${out.stdout ?? ''}${out.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  return text.replace(/^nginx version: /, '').replace(/ - https?:\/\/\S+$/, '');
}

function haproxyConfig(listeners: Listener[]): string {
  const lines = [
    'global',
    '  nbthread 1',
    '  maxconn 8192',
    '',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  http-reuse always',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-keep-alive 60s',
  ];
  listeners.forEach((l, i) => {
    lines.push(
      '',
      `frontend fe${i}`,
      `  bind 127.0.0.1:${l.port}`,
      `  default_backend be${i}`,
      '',
      `backend be${i}`,
      '  balance roundrobin',
      ...l.upstreams.map((p, j) => `  server s${j} 127.0.0.1:${p}`),
    );
  });
  return `${lines.join('\n')}\n`;
}

function nginxConfig(dir: string, listeners: Listener[]): string {
  const lines = [
    'daemon off;',
    // One process (no master) so killing the pid we hold kills the proxy.
    'master_process off;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 8192; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${join(dir, 'client_body')};`,
    `  proxy_temp_path ${join(dir, 'proxy')};`,
    `  fastcgi_temp_path ${join(dir, 'fastcgi')};`,
    `  uwsgi_temp_path ${join(dir, 'uwsgi')};`,
    `  scgi_temp_path ${join(dir, 'scgi')};`,
    '  keepalive_timeout 60s;',
    '  keepalive_requests 10000000;',
  ];
  listeners.forEach((l, i) => {
    lines.push(
      `  upstream up${i} {`,
      ...l.upstreams.map((p) => `    server 127.0.0.1:${p};`),
      '    keepalive 128;',
      '    keepalive_requests 10000000;',
      '    keepalive_timeout 60s;',
      '  }',
      '  server {',
      `    listen 127.0.0.1:${l.port};`,
      '    location / {',
      `      proxy_pass http://up${i};`,
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      '    }',
      '  }',
    );
  });
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts every process of `topology` with `binary`, waits until all their
 * ports accept connections, and returns them. Throws with the proxy's own
 * words when it exits or does not listen within 5 s; whatever it started is
 * stopped first. Runs on `cpus` (taskset syntax) when given.
 */
export async function startTopology(
  kind: ProxyKind,
  binary: string,
  dir: string,
  topology: Topology,
  cpus: string | undefined,
): Promise<RunningTopology> {
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    for (const proc of topology.processes) {
      const sub = join(dir, `${kind}-${proc.name}`);
      mkdirSync(sub, { recursive: true });
      const file = join(sub, `${kind}.conf`);
      writeFileSync(file, kind === 'haproxy' ? haproxyConfig(proc.listeners) : nginxConfig(sub, proc.listeners));
      const args = kind === 'haproxy' ? ['-db', '-f', file] : ['-p', `${sub}/`, '-e', join(sub, 'error.log'), '-c', file];
      const [command, argv] = pinned(cpus, ...tiedToUs(binary, args));
      const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      track(child);
      let output = '';
      const collect = (chunk: Buffer) => {
        if (output.length < 4000) output += chunk.toString();
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      let exited: string | undefined;
      child.once('exit', (code, signal) => {
        exited = `exited (${signal ?? code})`;
      });
      child.once('error', (error) => {
        exited = error.message;
      });
      const deadline = Date.now() + 5000;
      for (const { port } of proc.listeners) {
        while (!(await canConnect(port))) {
          if (exited !== undefined || Date.now() > deadline) {
            const said = output.trim().split('\n').filter(Boolean).slice(-2).join(' / ');
            throw new Error(`${kind} ${proc.name} ${exited ?? 'did not listen within 5 s'}${said ? `: ${said}` : ''}`);
          }
          await sleep(25);
        }
      }
    }
  } catch (error) {
    stop();
    throw error;
  }
  return { entryUrl: `http://127.0.0.1:${topology.entryPort}`, children, stop };
}
