/**
 * Debian's python3-grpcio as an xDS client in a child process
 * (xds_echo_client.py), driven one JSON line per command.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
export const hasPython = existsSync(PYTHON);
const SCRIPT = fileURLToPath(new URL('./xds_echo_client.py', import.meta.url));

export interface Calls {
  counts: Record<string, number>;
  errors: string[];
}

export interface Reached {
  reached: boolean;
  error: string | null;
}

export class PythonXdsClient {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #replies: string[] = [];
  readonly #waiters: ((line: string) => void)[] = [];
  #stderr = '';

  /** Dials `target` with the bootstrap file `bootstrap`. */
  constructor(target: string, bootstrap: string) {
    this.#child = spawn(PYTHON, [SCRIPT, target], { env: { PATH: process.env.PATH ?? '/usr/bin', GRPC_XDS_BOOTSTRAP: bootstrap } });
    this.#child.stderr.on('data', (d: Buffer) => {
      this.#stderr += d.toString();
    });
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      const waiter = this.#waiters.shift();
      if (waiter) waiter(line);
      else this.#replies.push(line);
    });
  }

  ask<T>(command: string): Promise<T> {
    this.#child.stdin.write(`${command}\n`);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to "${command}"; python stderr:\n${this.#stderr}`)), 90_000);
      const take = (line: string) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as T);
      };
      const queued = this.#replies.shift();
      if (queued !== undefined) take(queued);
      else this.#waiters.push(take);
    });
  }

  /** `n` calls: how many reached each server, and the errors. */
  calls(n: number): Promise<Calls> {
    return this.ask<Calls>(`calls ${n}`);
  }

  /** Call until 20 calls in a row reach `server` (30 s at most). */
  until(server: string): Promise<Reached> {
    return this.ask<Reached>(`until ${server}`);
  }

  async quit(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    this.#child.stdin.end('quit\n');
    await new Promise((r) => this.#child.once('exit', r));
  }
}
