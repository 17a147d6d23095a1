/**
 * The orchestrator's handle on one load-generator process (lib/loadgen.ts):
 * start it with its clients, ask it for runs, close it.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exited, nextMessage, spawnNode, waitExit } from './children.js';
import type { ClosedRun, LoadgenClients, LoadgenMessage, LoadgenRequest, LoadReply, SlicedRun } from './types.js';

const LOADGEN = fileURLToPath(new URL('./loadgen.ts', import.meta.url));

export class LoadGenerator {
  private constructor(
    private readonly child: ChildProcess,
    readonly node: string,
    /** Rows whose client could not be built, and why. */
    readonly unavailable: Record<string, string>,
  ) {}

  /** Starts a load generator; throws when the process does not come up. */
  static async start(clients: LoadgenClients, cpus: string | undefined): Promise<LoadGenerator> {
    const child = spawnNode(LOADGEN, [JSON.stringify(clients)], {
      nodeFlags: ['--expose-gc'],
      ...(cpus === undefined ? {} : { cpus }),
    });
    const first = await nextMessage<LoadgenMessage>(child, 60_000);
    if ('message' in first && first.message.type === 'ready') {
      return new LoadGenerator(child, first.message.node, first.message.unavailable);
    }
    child.kill('SIGKILL');
    throw new Error(`load generator ${'gone' in first ? first.gone : 'sent an unexpected first message'}`);
  }

  /** One run; a generator that dies or hangs fails every row of the run (and is killed). */
  async run(run: ClosedRun | SlicedRun, timeoutMs: number): Promise<Record<string, LoadReply>> {
    const rows = run.kind === 'closed' ? [run.row] : run.rows;
    if (exited(this.child)) return failAll(rows, 'load generator is gone');
    this.child.send({ type: 'run', run } satisfies LoadgenRequest);
    const answer = await nextMessage<LoadgenMessage>(this.child, timeoutMs);
    if ('message' in answer && answer.message.type === 'result') return answer.message.replies;
    this.child.kill('SIGKILL');
    return failAll(rows, `load generator ${'gone' in answer ? answer.gone : 'sent an unexpected message'}`);
  }

  /** Lets it close its clients (mesh.close() included), then makes sure it is gone. */
  async close(): Promise<void> {
    if (exited(this.child)) return;
    this.child.send({ type: 'close' } satisfies LoadgenRequest);
    await waitExit(this.child, 4000);
  }
}

function failAll(rows: string[], reason: string): Record<string, LoadReply> {
  return Object.fromEntries(rows.map((row) => [row, { ok: false, reason } satisfies LoadReply]));
}
