/** The reason recorded on a RUNNING trial failed for lack of heartbeats (same text on every backend). */
export function staleReason(silentMs: number, workerId: string | null): string {
  return `stale: no heartbeat for ${Math.round(silentMs)} ms from worker ${workerId ?? '(unknown)'}`;
}
