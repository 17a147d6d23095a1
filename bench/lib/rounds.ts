/**
 * Running the bench's rounds: each unit of a round (one closed-loop run, or
 * one round of the latency probe's slices) is timed against the machine's
 * other processes and re-done when they disturbed it, within a budget.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { foreignShare, snapshot } from './machine.js';
import type { RowId } from './options.js';
import type { RowRecord, RunRecord } from './report.js';
import type { LoadReply, LoadResult } from './types.js';

/** A unit is disturbed when other processes used more than this share of the machine's CPU. */
export const DISTURBED = 0.03;
/** The most attempts at one unit. */
const MAX_ATTEMPTS = 3;

/** Re-doing disturbed units: bounded in count and in time. */
export interface Redo {
  count: number;
  maxCount: number;
  /** Time spent re-doing and waiting for quiet, and the most allowed (ms). */
  spentMs: number;
  maxMs: number;
  /** The most foreign CPU seen in any unit (share of the machine). */
  worstForeign: number;
}

export interface Unit {
  rows: RowId[];
  run(): Promise<Record<string, LoadReply>>;
  /** Requests served by each replica so far, to see how a run spread its load (closed loop only). */
  replicaCounts?(): Promise<number[]>;
}

/** Waits (bounded) until other processes leave the CPU alone for half a second. */
async function waitForQuiet(redo: Redo): Promise<void> {
  const deadline = Date.now() + Math.min(15_000, redo.maxMs - redo.spentMs);
  while (Date.now() < deadline) {
    const before = snapshot();
    await sleep(500);
    const share = foreignShare(before, snapshot());
    if (share === undefined || share <= DISTURBED) return;
  }
}

/**
 * Runs `unit` once (or again, when disturbed) and files each row's result
 * in `records` under `round`. A row that fails is marked and not run again:
 * its numbers would mislead. Returns the replies filed, for the progress log.
 */
export async function runUnit(
  unit: Unit,
  round: number,
  records: Map<RowId, RowRecord>,
  redo: Redo,
  log: (replies: Record<string, LoadReply>, foreign: number | undefined, redoing: boolean) => void,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const t0 = Date.now();
    const before = await unit.replicaCounts?.();
    const machine = snapshot();
    const replies = await unit.run();
    const foreign = foreignShare(machine, snapshot());
    const after = await unit.replicaCounts?.();
    if (foreign !== undefined) redo.worstForeign = Math.max(redo.worstForeign, foreign);
    const disturbed = foreign !== undefined && foreign > DISTURBED;
    const anyOk = Object.values(replies).some((r) => r.ok);
    if (anyOk && disturbed && attempt < MAX_ATTEMPTS && redo.count < redo.maxCount && redo.spentMs < redo.maxMs) {
      log(replies, foreign, true);
      redo.count++;
      await waitForQuiet(redo);
      redo.spentMs += Date.now() - t0;
      continue;
    }
    log(replies, foreign, false);
    for (const id of unit.rows) {
      const record = records.get(id)!;
      const reply = replies[id] ?? { ok: false, reason: 'no reply' };
      if (!reply.ok) {
        record.runs.push({ round, error: reply.reason });
        record.reason = reply.reason;
        continue;
      }
      const run: RunRecord = { round, result: reply as LoadResult };
      if (before && after) run.perReplica = after.map((n, k) => n - before[k]!);
      if (foreign !== undefined) run.foreignCpu = Math.round(foreign * 1000) / 1000;
      if (disturbed) run.disturbed = true;
      record.runs.push(run);
    }
    return;
  }
}
