import type { TrialRow } from './rows.js';
import type { TrialInit } from './types.js';

/**
 * Why a RUNNING trial is failed as stale: its last sign of life (heartbeat, else start, else
 * creation) is more than `olderThanMs` before `now`; undefined while it is fresh. Same rule and
 * text on every backend.
 */
export function staleReason(row: TrialRow, now: number, olderThanMs: number): string | undefined {
  const silentMs = now - (row.heartbeatAt ?? row.startedAt ?? row.createdAt);
  if (silentMs <= olderThanMs) return undefined;
  return `stale: no heartbeat for ${Math.round(silentMs)} ms from worker ${row.workerId ?? '(unknown)'}`;
}

/** The new WAITING trial that re-queues a stale trial's config. */
export function requeueInit(row: TrialRow): TrialInit {
  return { state: 'WAITING', config: JSON.parse(row.config), userAttrs: { requeuedFrom: row.number } };
}
