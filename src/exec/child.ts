/**
 * Entry point of a pool worker process: receives jobs over IPC, runs them one at a time, sends
 * progress and results back. Exits when the parent disconnects (so a killed parent leaves no
 * orphans behind).
 */
import { isUserError } from '../core/errors.js';
import { loadJobFunction } from './inline.js';
import type { Json, JobSpec } from './types.js';

export type ToChild =
  | { type: 'job'; id: number; job: JobSpec; threads: number }
  | { type: 'abort'; id: number }
  | { type: 'stop'; id: number };
export type FromChild =
  | { type: 'ready' }
  | { type: 'progress'; id: number; event: Json }
  | { type: 'result'; id: number; value: Json }
  | { type: 'error'; id: number; name: string; message: string; stack?: string; userFacing: boolean };

const send = (m: FromChild): void => {
  // After the parent has gone (closing pool, killed parent) there is no one to answer.
  if (process.connected) process.send?.(m, undefined, undefined, () => undefined);
};
const running = new Map<number, { abort: AbortController; stop: AbortController }>();

process.on('message', (raw: ToChild) => {
  if (raw.type === 'abort' || raw.type === 'stop') {
    running.get(raw.id)?.[raw.type].abort();
    return;
  }
  const { id, job, threads } = raw;
  const controller = new AbortController();
  const stop = new AbortController();
  running.set(id, { abort: controller, stop });
  void (async () => {
    try {
      const fn = await loadJobFunction(job);
      const value = await fn(job.args, {
        threads,
        signal: controller.signal,
        stop: stop.signal,
        progress: (event) => send({ type: 'progress', id, event }),
      });
      send({ type: 'result', id, value });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const msg: FromChild = { type: 'error', id, name: err.name, message: err.message, userFacing: isUserError(err) };
      if (err.stack !== undefined) msg.stack = err.stack;
      send(msg);
    } finally {
      running.delete(id);
    }
  })();
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
