/**
 * `autopeft search`: AutoPEFT's outer loop, as one use of the generic study loop (`loop.ts`). A
 * sampler (BO, NSGA-II or random) proposes PEFT configurations in batches of q; each becomes a
 * trial in a persistent study; an executor trains it at low fidelity (inline or in a pool of
 * worker processes); the result (validation metric, parameter %) is told back. Everything is
 * stored as it happens, so:
 * - rerunning the same command resumes the study (BO continues from the sampler state the Study
 *   keeps in the study's system attributes);
 * - Ctrl-C stops cleanly: running trials are marked interrupted and re-queued;
 * - after a kill -9 no finished trial is lost, and trials left RUNNING by a dead process on this
 *   machine are re-queued at the next start (other hosts' trials by heartbeat age);
 * - two `search` processes on one study together stop at `--trials`.
 */
import { createExecutor } from '../exec/pool.js';
import { runJob } from '../exec/job.js';
import type { Executor } from '../exec/types.js';
import { describePeft } from '../peft/config.js';
import { createSampler, type SamplerName } from '../search/samplers/index.js';
import { autopeftObjectives, autopeftSpace, peftFromSearch } from '../search/space/autopeft.js';
import { createStudy } from '../search/study/index.js';
import type { Storage } from '../storage/types.js';
import type { TrainEvent } from '../train/trainer.js';
import { getBackbone, type TrialResult, type TrialSpec } from '../train/trial.js';
import type { AttrValue, Config, StudyRecord } from '../trials/index.js';
import { UsageError } from '../core/errors.js';
import { TRIAL_JOB } from './jobs/trial.js';
import { SETUP_KEY, type SearchSetup } from './attrs.js';
import { type LoopEvents, resume, runStudy, studyCounts, type TrialJob } from './loop.js';
import { hypervolumeOf, referencePoint } from './report.js';

export interface SearchOptions {
  storage: Storage;
  study: string;
  model: string;
  task: string;
  dataDir?: string;
  /** Trials the study should hold in the end (complete + failed, all processes together). */
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

export interface SearchOutcome {
  complete: number;
  failed: number;
  interrupted: boolean;
}

const HEARTBEAT_MS = 5000;
/** Trials RUNNING without a heartbeat for this long (another host's dead worker) are re-queued. */
const STALE_MS = 60_000;

/** The first setting that differs between a stored study's setup and this run's, if any. */
export function setupDiff(a: SearchSetup, b: SearchSetup): string | undefined {
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

/** A stored study may be resumed only by a search with the same settings. */
function checkResumable(existing: StudyRecord, setup: SearchSetup, location: string): void {
  const stored = existing.systemAttrs[SETUP_KEY] as unknown as SearchSetup | undefined;
  if (!stored)
    throw new UsageError(
      `study "${existing.name}" in ${location} was not created by autopeft search; choose another --study`,
    );
  const diff = setupDiff(stored, setup);
  if (diff)
    throw new UsageError(
      `study "${existing.name}" exists with other settings (${diff}); resume it with the same flags or choose another --study`,
    );
}

/** Trial `config` as an executor job: train it at the search's fidelity, record its result. */
function trainingJob(o: SearchOptions, config: Config, number: number, numLayers: number): TrialJob<TrialResult> {
  const spec: TrialSpec = {
    model: o.model,
    task: o.task,
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    peft: peftFromSearch(config, numLayers),
    hyper: o.hyper,
    ...(o.fidelity ? { fidelity: o.fidelity } : {}),
  };
  return {
    run: (ex: Executor) =>
      runJob(ex, TRIAL_JOB, spec, (event) => o.onEvent?.({ kind: 'trial-progress', number, event })),
    tell: (r) => ({
      values: { metric: r.metric }, // paramPct: the study computes the known objective
      userAttrs: {
        metricName: r.metricName,
        metrics: r.metrics,
        trainableParams: r.trainableParams,
        trainSeconds: r.trainSeconds,
        epochs: r.epochs,
        bestEpoch: r.bestEpoch,
        steps: r.steps,
        trainExamples: r.trainExamples,
        description: r.description,
      },
    }),
  };
}

/** The loop's events as `SearchEvent`s (hypervolume and best metric over the study's complete trials). */
function searchEvents(o: SearchOptions, numLayers: number): LoopEvents<TrialResult> {
  const emit = o.onEvent ?? (() => undefined);
  return {
    start: (t) =>
      emit({
        kind: 'trial-start',
        number: t.number,
        description: describePeft(peftFromSearch(t.config, numLayers)),
      }),
    done: (t, result, c) =>
      emit({
        kind: 'trial-done',
        number: t.number,
        result,
        hypervolume: hypervolumeOf(c.complete, referencePoint(c.complete)),
        bestMetric: Math.max(...c.complete.map((x) => x.values![0]!)),
        complete: c.complete.length,
        failed: c.failed,
        running: c.running,
      }),
    failed: (t, reason, c) =>
      emit({
        kind: 'trial-failed',
        number: t.number,
        reason,
        complete: c.complete.length,
        failed: c.failed,
        running: c.running,
      }),
  };
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
  const existing = await o.storage.findStudy(o.study);
  if (existing) checkResumable(existing, setup, o.storage.location);
  // Per-layer attention widths where the backbone has them (USE-lite: [256, 512]); paramPct counts PT/LoRA with them.
  const { attentionWidths } = backbone.dims;
  const objectives = autopeftObjectives({
    numLayers,
    hidden,
    backboneParams: backbone.backboneParams,
    ...(attentionWidths ? { attentionWidths } : {}),
  });
  const space = autopeftSpace({ numLayers, hidden, lora: o.lora });
  const study = await createStudy({
    storage: o.storage,
    name: o.study,
    objectives,
    sampler: createSampler(o.sampler, { space, objectives, seed: o.seed, nInit: o.nInit }),
    loadIfExists: true,
    systemAttrs: { [SETUP_KEY]: setup as unknown as AttrValue },
    heartbeat: { intervalMs: HEARTBEAT_MS, staleAfterMs: STALE_MS, requeueStale: true },
  });
  const executor = createExecutor(o.workers, o.threadsPerWorker);
  try {
    const requeued = existing ? await resume(study, { staleAfterMs: STALE_MS }) : 0;
    const c = await studyCounts(study);
    const start = { resumed: existing !== undefined, complete: c.complete.length, failed: c.failed, requeued };
    o.onEvent?.({ kind: 'start', ...start, total: o.trials });
    const jobFor = (t: { config: Config; number: number }) => trainingJob(o, t.config, t.number, numLayers);
    const target = { trials: o.trials, batch: o.batch, ...(o.signal ? { signal: o.signal } : {}) };
    const out = await runStudy(study, executor, jobFor, target, searchEvents(o, numLayers));
    o.onEvent?.({ kind: 'stopped', reason: out.interrupted ? 'interrupted' : 'done' });
    return out;
  } finally {
    await study.close();
    await executor.close();
  }
}
