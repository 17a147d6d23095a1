/**
 * Child processes of the bench: every one is tracked from the moment it is
 * spawned and killed when the orchestrator exits, however it exits (normal
 * end, error, SIGINT/SIGTERM, watchdog). Node children run with the
 * orchestrator's own Node (`process.execPath`) and tsx, so they run the
 * TypeScript sources directly, with BENCH_NODE_FLAGS (lib/node-flags.ts);
 * they also exit by themselves when the IPC channel to the orchestrator
 * closes.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { benchNodeFlags } from './node-flags.js';

const children = new Set<ChildProcess>();

export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** SIGKILLs every live child. Synchronous, so it is safe in an 'exit' handler. */
export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {}
    }
  }
  children.clear();
}

let installed = false;

/** Kill the children on every way out; `onExit` runs first (e.g. to remove a temp dir). */
export function installExitHandlers(onExit: () => void): void {
  if (installed) return;
  installed = true;
  const cleanup = () => {
    killAll();
    try {
      onExit();
    } catch {}
  };
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping child processes\n`);
      cleanup();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (error) => {
    process.stderr.write(`bench: ${error.stack ?? String(error)}\n`);
    cleanup();
    process.exit(1);
  });
  process.on('unhandledRejection', (error) => {
    process.stderr.write(`bench: unhandled rejection: ${(error as Error)?.stack ?? String(error)}\n`);
    cleanup();
    process.exit(1);
  });
}

let tasksetAvailable: boolean | undefined;

export function hasTaskset(): boolean {
  tasksetAvailable ??= spawnSync('taskset', ['-V'], { stdio: 'ignore', timeout: 2000 }).status === 0;
  return tasksetAvailable;
}

let setprivAvailable: boolean | undefined;

/**
 * `[command, args]` that the kernel kills when this process dies, even by
 * SIGKILL (util-linux `setpriv --pdeathsig`), where available. For children
 * that cannot watch an IPC channel themselves: the proxies.
 */
export function tiedToUs(command: string, args: string[]): [string, string[]] {
  setprivAvailable ??= spawnSync('setpriv', ['--version'], { stdio: 'ignore', timeout: 2000 }).status === 0;
  return setprivAvailable ? ['setpriv', ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
}

/** `[command, args]`, wrapped in `taskset -c cpus` when `cpus` is given. */
export function pinned(cpus: string | undefined, command: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];
}

export const TSX = import.meta.resolve('tsx');

/**
 * Starts `script` (a .ts file) in a new Node process with an IPC channel;
 * its stdout and stderr go to the orchestrator's stderr, keeping stdout for
 * the tables.
 */
export function spawnNode(script: string, args: string[], options: { cpus?: string; nodeFlags?: string[] } = {}): ChildProcess {
  const [command, argv] = pinned(options.cpus, process.execPath, [
    '--import',
    TSX,
    ...benchNodeFlags(),
    ...(options.nodeFlags ?? []),
    script,
    ...args,
  ]);
  const child = spawn(command, argv, { stdio: ['ignore', 2, 2, 'ipc'] });
  track(child);
  return child;
}

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Waits for `child` to exit, SIGKILLing it after `ms`. */
export function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (exited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The child's next IPC message, or why none came (it exited, or `ms` passed). */
export function nextMessage<T>(child: ChildProcess, ms: number): Promise<{ message: T } | { gone: string }> {
  return new Promise((resolve) => {
    const done = (value: { message: T } | { gone: string }) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(value);
    };
    const onMessage = (message: T) => done({ message });
    const onExit = (code: number | null, signal: string | null) => done({ gone: `exited (${signal ?? code})` });
    const timer = setTimeout(() => done({ gone: `no answer within ${Math.round(ms / 1000)} s` }), ms);
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (exited(child)) done({ gone: `exited (${child.signalCode ?? child.exitCode})` });
  });
}
