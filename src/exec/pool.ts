/**
 * A pool of W long-lived worker processes on this machine, each running one job at a time with its
 * own intra-op thread budget (floor(cores / W), at least 1): `autopeft search --workers W`.
 * A worker that dies mid-job (OOM, kill) fails that job and is replaced for the next one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromChild, ToChild } from './child.js';
import { InlineExecutor } from './inline.js';
import { JobError, type Executor, type Json, type JobSpec, type RunOptions } from './types.js';

interface Pending {
  id: number;
  job: JobSpec;
  onProgress: ((e: Json) => void) | undefined;
  stop: AbortSignal | undefined;
  /** Removes this job's listener from `stop` (set once the job is sent to a worker). */
  unlisten?: () => void;
  resolve: (v: Json) => void;
  reject: (e: Error) => void;
}

interface Worker {
  proc: ChildProcess;
  busy: Pending | undefined;
  exited: boolean;
}

export interface PoolOptions {
  workers: number;
  /** Threads per worker; default floor(cores / workers), at least 1. */
  threadsPerWorker?: number;
  /** Extra environment for the workers. */
  env?: NodeJS.ProcessEnv;
}

// The worker entry sits next to this file: child.ts under tsx (a clone), child.js under dist/. Only
// the former needs tsx's loader in the workers, so an installed package runs without tsx.
const EXT = extname(fileURLToPath(import.meta.url));
const CHILD = fileURLToPath(new URL(`./child${EXT}`, import.meta.url));
const FROM_SOURCES = EXT === '.ts';

export class ProcessPoolExecutor implements Executor {
  readonly concurrency: number;
  readonly threadsPerWorker: number;
  private readonly workers: Worker[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: PoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1)
      throw new RangeError(`--workers must be a positive integer, got ${options.workers}`);
    this.concurrency = options.workers;
    this.threadsPerWorker =
      options.threadsPerWorker ?? Math.max(1, Math.floor(availableParallelism() / options.workers));
  }

  private spawn(): Worker {
    // From sources, workers run the TypeScript through tsx, resolved from this package (not the cwd).
    const proc = fork(CHILD, [], {
      execArgv: FROM_SOURCES ? ['--import', import.meta.resolve('tsx')] : [],
      env: { ...process.env, ...this.options.env, AUTOPEFT_WORKER: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    const w: Worker = { proc, busy: undefined, exited: false };
    proc.on('message', (m: FromChild) => this.onMessage(w, m));
    proc.on('exit', (code, signal) => {
      w.exited = true;
      const i = this.workers.indexOf(w);
      if (i >= 0) this.workers.splice(i, 1);
      const p = w.busy;
      w.busy = undefined;
      if (p)
        p.reject(
          new JobError(
            `worker process ${proc.pid} died running the job (${signal ?? `exit code ${code}`})`,
            'WorkerDied',
          ),
        );
      this.pump();
    });
    this.workers.push(w);
    return w;
  }

  private onMessage(w: Worker, m: FromChild): void {
    if (m.type === 'ready') return;
    const p = w.busy;
    if (!p || p.id !== m.id) return;
    if (m.type === 'progress') {
      p.onProgress?.(m.event);
      return;
    }
    w.busy = undefined;
    if (m.type === 'result') p.resolve(m.value);
    else {
      p.reject(
        new JobError(m.message, m.name, {
          ...(m.stack !== undefined ? { stack: m.stack } : {}),
          userFacing: m.userFacing,
        }),
      );
    }
    this.pump();
  }

  private pump(): void {
    if (this.closed) return;
    while (this.queue.length > 0) {
      // A worker killed between jobs has lost its channel before its 'exit' event: never pick it.
      let w = this.workers.find((x) => !x.busy && !x.exited && x.proc.connected);
      if (!w && this.workers.length < this.concurrency) w = this.spawn();
      if (!w) return;
      const p = this.queue.shift()!;
      w.busy = p;
      const msg: ToChild = { type: 'job', id: p.id, job: p.job, threads: this.threadsPerWorker };
      // A send that fails (the worker died meanwhile) is not thrown: its 'exit' fails the job as WorkerDied.
      w.proc.send(msg, ignoreSendError);
      // A stop asked before the job started, or while it runs, reaches the worker's job.
      const stop = () => {
        if (w.busy === p && !w.exited) w.proc.send({ type: 'stop', id: p.id } satisfies ToChild, ignoreSendError);
      };
      if (p.stop?.aborted) stop();
      else if (p.stop) {
        // Removed when the job settles: one signal often serves a whole run of jobs.
        const signal = p.stop;
        signal.addEventListener('abort', stop, { once: true });
        p.unlisten = () => signal.removeEventListener('abort', stop);
      }
    }
  }

  run(job: JobSpec, onProgress?: (event: Json) => void, options: RunOptions = {}): Promise<Json> {
    if (this.closed) return Promise.reject(new JobError('executor closed', 'AbortError'));
    return new Promise<Json>((resolve, reject) => {
      const p: Pending = {
        id: this.nextId++,
        job,
        onProgress,
        stop: options.stop,
        resolve: (v) => {
          p.unlisten?.();
          resolve(v);
        },
        reject: (e) => {
          p.unlisten?.();
          reject(e);
        },
      };
      this.queue.push(p);
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new JobError('executor closed', 'AbortError'));
    const exits = this.workers.map(
      (w) =>
        new Promise<void>((res) => {
          if (w.exited) return res();
          w.proc.once('exit', () => res());
          if (w.busy) w.proc.send({ type: 'abort', id: w.busy.id } satisfies ToChild, ignoreSendError);
          // Disconnecting makes the child exit; a job that ignores its abort signal is killed.
          if (w.proc.connected) w.proc.disconnect();
          setTimeout(() => {
            if (!w.exited) w.proc.kill('SIGKILL');
          }, 5000).unref();
        }),
    );
    await Promise.all(exits);
  }
}

/** A message to a worker that has just died is dropped: the worker's exit handler reports the death. */
function ignoreSendError(): void {}

export function createExecutor(workers: number, threadsPerWorker?: number): Executor {
  if (workers <= 1) {
    return new InlineExecutor(threadsPerWorker);
  }
  const opts: PoolOptions = { workers };
  if (threadsPerWorker !== undefined) opts.threadsPerWorker = threadsPerWorker;
  return new ProcessPoolExecutor(opts);
}
