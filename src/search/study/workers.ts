/**
 * Worker identities. A Study's default worker id is `<host>:<pid>:<random>`, so a process on the
 * same host can tell that the worker of a RUNNING trial is gone (its pid no longer exists) and
 * re-queue the trial at once instead of waiting for its heartbeat to go stale.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The ids among `workerIds` of the form `<this host>:<pid>[:...]` whose process no longer exists.
 * Other hosts' workers (and ids of any other form) are left to the heartbeat timeout.
 */
export function deadLocalWorkers(workerIds: Iterable<string>, host: string = hostname()): string[] {
  const dead = new Set<string>();
  for (const id of workerIds) {
    const [h, p] = id.split(':');
    if (h !== host || p === undefined || !/^\d+$/.test(p)) continue;
    const pid = Number(p);
    if (pid !== process.pid && !processAlive(pid)) dead.add(id);
  }
  return [...dead];
}
