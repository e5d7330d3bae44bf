/**
 * `autopeft worker`: one of any number of processes, on any machines that reach the study's
 * database, that together run a study made by `autopeft search` (optuna's RDB model; see
 * docs/distributed.md). Each worker loops ask -> train (or run the external trial command) ->
 * tell through the generic study loop (`runStudy`), with heartbeats; the sampler's state lives in
 * the study's system attributes and asks are serialized by the storage's study lock, so the
 * proposals of several workers neither repeat nor ignore each other's pending trials.
 *
 * A worker stops when the study is done: the plan's target reached and no trial RUNNING or
 * WAITING anywhere. While another worker's trial runs it waits, sweeping for stale trials, so the
 * trial of a worker killed with -9 is re-run here once its heartbeat is `staleAfterMs` old. An
 * abort (SIGTERM/SIGINT) re-queues its running trial and returns. A lost database is retried by
 * the storage (with backoff); the loop resumes where it was.
 */
import { createExecutor } from '../exec/pool.js';
import type { Storage } from '../storage/types.js';
import type { TrialRecord } from '../trials/index.js';
import { readPlan, readSetup, type SearchPlan } from './attrs.js';
import { resume, runStudy, studyCounts } from './loop.js';
import {
  HEARTBEAT_MS,
  openSearchStudy,
  STALE_MS,
  type SearchEvent,
  searchEvents,
  searchTrialJob,
  type TrialRunSettings,
} from './search.js';

export interface WorkerOptions {
  storage: Storage;
  study: string;
  /** Overrides the plan's trial command (e.g. a path that differs on this machine). */
  trialCmd?: string;
  trialTimeoutMs?: number;
  trialDir?: string;
  /** Trials at once in this worker (each in its own process when > 1). Default 1. */
  jobs?: number;
  threadsPerJob?: number;
  heartbeatMs?: number;
  /** A RUNNING trial silent this long is another worker's dead one: re-queued. Default 60 s. */
  staleAfterMs?: number;
  /** How often an idle worker looks again while other workers' trials run. Default the heartbeat interval. */
  pollMs?: number;
  workerId?: string;
  signal?: AbortSignal;
  onEvent?: (e: WorkerEvent) => void;
}

export type WorkerEvent =
  | SearchEvent
  | {
      kind: 'worker-start';
      workerId: string;
      plan: SearchPlan;
      complete: number;
      failed: number;
      requeued: number;
    }
  | { kind: 'worker-wait'; running: number }
  | { kind: 'worker-requeued'; trials: number[] };

export interface WorkerOutcome {
  /** Trials this worker finished (complete, failed or pruned). */
  ran: number;
  complete: number;
  failed: number;
  interrupted: boolean;
}

export async function runWorker(o: WorkerOptions): Promise<WorkerOutcome> {
  const emit = o.onEvent ?? (() => undefined);
  const record = await o.storage.getStudy(o.study);
  const setup = readSetup(record);
  const plan = readPlan(record);
  const heartbeatMs = o.heartbeatMs ?? HEARTBEAT_MS;
  const staleAfterMs = o.staleAfterMs ?? STALE_MS;
  const { study, paramPct, pruner } = await openSearchStudy({
    storage: o.storage,
    study: o.study,
    setup,
    nInit: plan.nInit,
    heartbeatMs,
    staleAfterMs,
    ...(o.workerId !== undefined ? { workerId: o.workerId } : {}),
  });
  const executor = createExecutor(o.jobs ?? 1, o.threadsPerJob);
  let ran = 0;
  let interrupted = false;
  try {
    const requeued = await resume(study, { staleAfterMs });
    const first = await studyCounts(study);
    emit({
      kind: 'worker-start',
      workerId: study.workerId,
      plan,
      complete: first.complete.length,
      failed: first.failed,
      requeued,
    });
    const trialCmd = o.trialCmd ?? plan.trialCmd;
    const trialTimeoutMs = o.trialTimeoutMs ?? plan.trialTimeoutMs;
    const run: TrialRunSettings = {
      study: o.study,
      setup,
      ...(trialCmd !== undefined ? { trialCmd } : {}),
      ...(trialTimeoutMs !== undefined ? { trialTimeoutMs } : {}),
      ...(o.trialDir !== undefined ? { trialDir: o.trialDir } : {}),
      onEvent: emit,
    };
    const events = searchEvents(emit, setup, paramPct);
    const counting = {
      ...events,
      done: (...a: Parameters<NonNullable<typeof events.done>>) => {
        ran++;
        events.done?.(...a);
      },
      failed: (...a: Parameters<NonNullable<typeof events.failed>>) => {
        ran++;
        events.failed?.(...a);
      },
      pruned: (...a: Parameters<NonNullable<typeof events.pruned>>) => {
        ran++;
        events.pruned?.(...a);
      },
    };
    const pollMs = o.pollMs ?? heartbeatMs;
    let target = plan;
    for (;;) {
      const out = await runStudy(
        study,
        executor,
        (t: TrialRecord) => searchTrialJob(run, t, paramPct),
        { trials: target.trials, batch: target.batch, pruner, ...(o.signal ? { signal: o.signal } : {}) },
        counting,
      );
      if (out.interrupted || o.signal?.aborted) {
        interrupted = true;
        break;
      }
      // The target may have been raised meanwhile (`autopeft search --workers 0 --trials N`).
      target = readPlan(await o.storage.getStudy(o.study));
      const c = await studyCounts(study);
      const running = (await study.trials(['RUNNING'])).length;
      if (c.counted >= target.trials && c.waiting === 0 && running === 0) break;
      if (c.counted < target.trials || c.waiting > 0) continue;
      // Other workers' trials still run: wait, and take over any whose worker went silent.
      emit({ kind: 'worker-wait', running });
      await sleep(pollMs, o.signal);
      const swept = await study.requeueOrphans({ staleAfterMs, requeue: true });
      if (swept.failed.length > 0) emit({ kind: 'worker-requeued', trials: swept.failed.map((t) => t.number) });
    }
    const c = await studyCounts(study);
    emit({ kind: 'stopped', reason: interrupted ? 'interrupted' : 'done' });
    return { ran, complete: c.complete.length, failed: c.failed, interrupted };
  } finally {
    await study.close();
    await executor.close();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((res) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    }
    signal?.addEventListener('abort', done);
  });
}
