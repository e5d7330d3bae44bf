/**
 * The one interrupt / re-queue mechanism of every backend: a RUNNING trial that stops through no
 * fault of its config (user interrupt, dead worker, stale heartbeat, reserved but never started)
 * is failed with a typed `interrupted` kind and, if asked, its config is enqueued again as a new
 * WAITING trial; both rows point at each other (`requeuedAs` / `requeuedFrom`). `failStale` and
 * `interruptTrial` both go through `interruptRow`, inside the backend's transaction.
 */
import type { InterruptKind, InterruptResult, TrialInit } from '../trials/index.js';
import { toTrialRecord, type TrialRow } from './rows.js';

/** The reason text a kind gets when the caller gives none. */
export function defaultReason(kind: InterruptKind, row: Pick<TrialRow, 'workerId'>): string {
  switch (kind) {
    case 'user':
      return 'interrupted by the user';
    case 'worker-died':
      return `interrupted: worker ${row.workerId ?? '(unknown)'} died`;
    case 'stale':
      return 'interrupted: no heartbeat';
    case 'never-started':
      return 'interrupted: never started';
  }
}

/**
 * Why a stale sweep fails a RUNNING trial: its worker is listed as dead, or its last sign of life
 * (heartbeat, else start, else creation) is more than `olderThanMs` before `now`; undefined while
 * it is fresh. Same rule and text on every backend.
 */
export function orphanReason(
  row: TrialRow,
  now: number,
  olderThanMs: number,
  deadWorkers: readonly string[] = [],
): { kind: InterruptKind; reason: string } | undefined {
  if (row.workerId !== null && deadWorkers.includes(row.workerId))
    return { kind: 'worker-died', reason: defaultReason('worker-died', row) };
  const silentMs = now - (row.heartbeatAt ?? row.startedAt ?? row.createdAt);
  if (silentMs <= olderThanMs) return undefined;
  return {
    kind: 'stale',
    reason: `stale: no heartbeat for ${Math.round(silentMs)} ms from worker ${row.workerId ?? '(unknown)'}`,
  };
}

/** How a backend writes the rows `interruptRow` decides on (inside its transaction). */
export interface RowWriter {
  /** Stores the row's state, reason, finishedAt, interrupted and requeuedAs. */
  update(row: TrialRow): void;
  /** Inserts a new trial with the study's next number and returns its row. */
  insert(init: TrialInit, now: number, requeuedFrom: number): TrialRow;
}

/** Fails the RUNNING `row` as interrupted (`kind`) and, with `requeue`, enqueues its config again. */
export function interruptRow(
  row: TrialRow,
  kind: InterruptKind,
  reason: string,
  requeue: boolean,
  now: number,
  writer: RowWriter,
): InterruptResult {
  const failed: TrialRow = { ...row, state: 'FAILED', reason, finishedAt: now, interrupted: kind };
  if (!requeue) {
    writer.update(failed);
    return { failed: toTrialRecord(failed) };
  }
  const again = writer.insert({ state: 'WAITING', config: JSON.parse(row.config) }, now, row.number);
  failed.requeuedAs = again.number;
  writer.update(failed);
  return { failed: toTrialRecord(failed), requeued: toTrialRecord(again) };
}
