/**
 * `autopeft search`: AutoPEFT's outer loop. A sampler (BO, NSGA-II or random) proposes PEFT
 * configurations in batches of q; each becomes a trial in a persistent study; an executor trains
 * it at low fidelity (inline or in a pool of worker processes); the result (validation metric,
 * parameter %) is told back. Everything is stored as it happens, so:
 * - rerunning the same command resumes the study (BO continues from its stored warm-start state);
 * - Ctrl-C stops cleanly: running trials are marked FAILED ("interrupted") and re-queued;
 * - after a kill -9 no finished trial is lost, and trials left RUNNING by a dead process on this
 *   machine are re-queued at the next start (other hosts' trials by heartbeat age).
 */
import { hostname } from 'node:os';
import type { Executor } from '../exec/types.js';
import { runJob } from '../exec/job.js';
import { createExecutor } from '../exec/pool.js';
import { autopeftObjectives, autopeftSpace, peftFromSearch } from '../search/space/autopeft.js';
import { BoSampler, createSampler, type BoState, type SamplerName } from '../search/samplers/index.js';
import type { AttrValue, Config } from '../search/types.js';
import { createStudy } from '../search/study/index.js';
import type { Storage, TrialRecord } from '../storage/types.js';
import { getBackbone, type TrialResult, type TrialSpec } from '../train/trial.js';
import type { TrainEvent } from '../train/trainer.js';
import { UsageError } from '../core/errors.js';
import { SETUP_KEY, type SearchSetup } from './attrs.js';
import { TRIAL_JOB } from './jobs/trial.js';
import { hypervolumeOf, referencePoint } from './report.js';
import { describePeft } from '../peft/config.js';

export interface SearchOptions {
  storage: Storage;
  study: string;
  model: string;
  task: string;
  dataDir?: string;
  /** Total trials (complete + failed) the study should reach. */
  trials: number;
  /** Random configurations before BO starts. */
  nInit: number;
  /** Configurations proposed per sampler call (q). */
  batch: number;
  sampler: SamplerName;
  seed: number;
  lora: boolean;
  hyper: TrialSpec['hyper'];
  fidelity?: TrialSpec['fidelity'];
  workers: number;
  threadsPerWorker?: number;
  onEvent?: (e: SearchEvent) => void;
  signal?: AbortSignal;
}

export type SearchEvent =
  | { kind: 'start'; resumed: boolean; complete: number; failed: number; requeued: number; total: number }
  | { kind: 'trial-start'; number: number; description: string }
  | { kind: 'trial-progress'; number: number; event: TrainEvent }
  | {
      kind: 'trial-done';
      number: number;
      result: TrialResult;
      hypervolume: number;
      bestMetric: number;
      complete: number;
      failed: number;
      running: number;
    }
  | { kind: 'trial-failed'; number: number; reason: string; complete: number; failed: number; running: number }
  | { kind: 'stopped'; reason: 'done' | 'interrupted' };

const HEARTBEAT_MS = 5000;
/** Trials RUNNING without a heartbeat for this long (another host's dead worker) are re-queued. */
const STALE_MS = 60_000;
const INTERRUPTED = 'interrupted';
/** Study attribute holding the BO sampler's warm-start state. */
export const BO_STATE_KEY = 'boState';

function sameSetup(a: SearchSetup, b: SearchSetup): string | undefined {
  const keys: (keyof SearchSetup)[] = ['model', 'task', 'sampler', 'lora', 'numLayers', 'hidden'];
  for (const k of keys)
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k]))
      return `${k} ${JSON.stringify(a[k])} (stored) vs ${JSON.stringify(b[k])} (now)`;
  if (
    JSON.stringify(a.hyper) !== JSON.stringify(b.hyper) ||
    JSON.stringify(a.fidelity ?? null) !== JSON.stringify(b.fidelity ?? null)
  )
    return 'training fidelity/hyperparameters differ';
  return undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface SearchOutcome {
  complete: number;
  failed: number;
  interrupted: boolean;
}

export async function runSearch(o: SearchOptions): Promise<SearchOutcome> {
  if (!(o.trials >= 1)) throw new UsageError(`--trials must be >= 1, got ${o.trials}`);
  if (!(o.batch >= 1)) throw new UsageError(`--batch must be >= 1, got ${o.batch}`);
  const backbone = await getBackbone(o.model);
  const { numLayers, hidden } = backbone.dims;
  const setup: SearchSetup = {
    model: o.model,
    task: o.task,
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    numLayers,
    hidden,
    backboneParams: backbone.backboneParams,
    sampler: o.sampler,
    seed: o.seed,
    hyper: o.hyper,
    ...(o.fidelity ? { fidelity: o.fidelity } : {}),
    lora: o.lora,
  };
  const space = autopeftSpace({ numLayers, hidden, lora: o.lora });
  // Per-layer attention widths where the backbone has them (USE-lite: [256, 512]); paramPct counts PT/LoRA with them.
  const { attentionWidths } = backbone.dims;
  const objectives = autopeftObjectives({
    numLayers,
    hidden,
    backboneParams: backbone.backboneParams,
    ...(attentionWidths ? { attentionWidths } : {}),
  });
  const sampler = createSampler(o.sampler, { space, objectives, seed: o.seed, nInit: o.nInit });

  const { storage, study } = o;
  const existing = await storage.findStudy(study);
  const resumed = existing !== undefined;
  if (existing) {
    const stored = existing.userAttrs[SETUP_KEY] as unknown as SearchSetup | undefined;
    if (!stored)
      throw new UsageError(
        `study "${study}" in ${storage.location} was not created by autopeft search; choose another --study`,
      );
    const diff = sameSetup(stored, setup);
    if (diff)
      throw new UsageError(
        `study "${study}" exists with other settings (${diff}); resume it with the same flags or choose another --study`,
      );
  }
  const workerId = `${hostname()}:${process.pid}`;

  // Trials left RUNNING by a dead search process on this host: re-queue them now (other hosts'
  // trials are re-queued by the Study once their heartbeat is older than STALE_MS).
  let requeued = 0;
  if (existing) {
    for (const t of await storage.listTrials(study, { states: ['RUNNING'] })) {
      const [host, pid] = (t.workerId ?? '').split(':');
      if (host === hostname() && pid !== undefined && !processAlive(Number(pid))) {
        await storage.tellTrial(study, t.number, {
          state: 'FAILED',
          reason: `${INTERRUPTED}: its process ${pid} died`,
        });
        await storage.createTrial(study, { state: 'WAITING', config: t.config, userAttrs: { requeuedFrom: t.number } });
        requeued++;
      }
    }
    requeued += (await storage.failStale(study, { olderThanMs: STALE_MS, requeue: true })).requeued.length;
  }
  // A resumed BO continues from its last GP hyperparameters (warm start), so it proposes what an
  // uninterrupted run would have.
  const boState = existing?.userAttrs[BO_STATE_KEY] as unknown as BoState | undefined;
  if (sampler instanceof BoSampler && boState) sampler.importState(boState);
  const st = await createStudy({
    storage,
    name: study,
    objectives,
    sampler,
    loadIfExists: true,
    userAttrs: { [SETUP_KEY]: setup as unknown as AttrValue },
    workerId,
    heartbeat: { intervalMs: HEARTBEAT_MS, staleAfterMs: STALE_MS, requeueStale: true },
  });

  const counts = async () => {
    const all = await storage.listTrials(study);
    const complete = all.filter((t) => t.state === 'COMPLETE');
    const failed = all.filter(
      (t) => (t.state === 'FAILED' && !(t.reason ?? '').startsWith(INTERRUPTED)) || t.state === 'PRUNED',
    );
    return { all, complete, failed };
  };
  {
    const c = await counts();
    o.onEvent?.({
      kind: 'start',
      resumed,
      complete: c.complete.length,
      failed: c.failed.length,
      requeued,
      total: o.trials,
    });
  }

  const executor: Executor = createExecutor(o.workers, o.threadsPerWorker);
  const running = new Map<number, { trial: TrialRecord; done: Promise<void> }>();
  let interrupted = false;
  let closing: Promise<void> | undefined;
  const onAbort = () => {
    interrupted = true;
    // Abort the running jobs now: their trials fail as interrupted and are re-queued.
    closing ??= executor.close();
  };
  o.signal?.addEventListener('abort', onAbort);

  const specFor = (config: Config): TrialSpec => ({
    model: o.model,
    task: o.task,
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    peft: peftFromSearch(config, numLayers),
    hyper: o.hyper,
    ...(o.fidelity ? { fidelity: o.fidelity } : {}),
  });

  /**
   * The Study claims a queued trial or asks the sampler for a batch of q (pending trials are the
   * sampler's fantasies); trials of a batch beyond the free workers wait here, RUNNING and kept
   * alive by the Study's heartbeat.
   */
  const reserved: TrialRecord[] = [];
  /** `budget`: trials still to start; a batch never exceeds it. */
  const nextTrial = async (budget: number): Promise<TrialRecord> => {
    if (reserved.length === 0) {
      reserved.push(...(await st.askBatch(Math.max(1, Math.min(o.batch, budget)))));
      if (sampler instanceof BoSampler)
        await storage.setStudyUserAttrs(study, { [BO_STATE_KEY]: sampler.exportState() as unknown as AttrValue });
    }
    return reserved.shift()!;
  };

  const finishTrial = async (trial: TrialRecord, result: TrialResult | undefined, error: Error | undefined) => {
    running.delete(trial.number);
    if (result) {
      await storage.setTrialUserAttrs(study, trial.number, {
        metricName: result.metricName,
        metrics: result.metrics,
        trainableParams: result.trainableParams,
        trainSeconds: result.trainSeconds,
        epochs: result.epochs,
        bestEpoch: result.bestEpoch,
        steps: result.steps,
        trainExamples: result.trainExamples,
        description: result.description,
      });
      await st.tell(trial.number, { metric: result.metric });
      const c = await counts();
      const ref = referencePoint(c.complete);
      const best = Math.max(...c.complete.map((t) => t.values![0]!));
      o.onEvent?.({
        kind: 'trial-done',
        number: trial.number,
        result,
        hypervolume: hypervolumeOf(c.complete, ref),
        bestMetric: best,
        complete: c.complete.length,
        failed: c.failed.length,
        running: running.size,
      });
    } else {
      const reason = interrupted ? `${INTERRUPTED} by the user` : (error?.message ?? 'unknown error').split('\n')[0]!;
      await st.tell(trial.number, { state: 'FAILED', reason });
      if (interrupted) await st.enqueue(trial.config, { userAttrs: { requeuedFrom: trial.number } });
      const c = await counts();
      o.onEvent?.({
        kind: 'trial-failed',
        number: trial.number,
        reason,
        complete: c.complete.length,
        failed: c.failed.length,
        running: running.size,
      });
    }
  };

  try {
    for (;;) {
      if (interrupted) break;
      const c = await counts();
      const done = c.complete.length + c.failed.length;
      if (done + running.size < o.trials && running.size < executor.concurrency) {
        const trial = await nextTrial(o.trials - done - running.size);
        const cfg = peftFromSearch(trial.config, numLayers);
        o.onEvent?.({ kind: 'trial-start', number: trial.number, description: describePeft(cfg) });
        const job = runJob(executor, TRIAL_JOB, specFor(trial.config), (event) =>
          o.onEvent?.({ kind: 'trial-progress', number: trial.number, event }),
        ).then(
          (r) => finishTrial(trial, r, undefined),
          (e: Error) => finishTrial(trial, undefined, e),
        );
        running.set(trial.number, { trial, done: job });
        continue;
      }
      if (running.size === 0) break;
      await Promise.race([...running.values()].map((r) => r.done));
    }
    if (interrupted) {
      const waits = [...running.values()].map((r) => r.done);
      await (closing ?? executor.close());
      await Promise.all(waits);
    }
    // Reserved but never started (interrupted, or the target was reached by others): back to the queue.
    for (const t of reserved.splice(0)) {
      await st.tell(t.number, { state: 'FAILED', reason: `${INTERRUPTED}: never started` });
      await st.enqueue(t.config, { userAttrs: { requeuedFrom: t.number } });
    }
  } finally {
    await st.close();
    o.signal?.removeEventListener('abort', onAbort);
    await executor.close();
  }
  const c = await counts();
  o.onEvent?.({ kind: 'stopped', reason: interrupted ? 'interrupted' : 'done' });
  return { complete: c.complete.length, failed: c.failed.length, interrupted };
}
