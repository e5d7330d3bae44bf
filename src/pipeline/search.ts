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
 * - two `search` processes on one study together stop at `--trials`;
 * - `--workers 0` only creates the study and records its plan: `autopeft worker` processes on any
 *   machine (pipeline/worker.ts) run its trials;
 * - `--trial-cmd` runs each trial as an external command (pipeline/external-trial.ts);
 * - every trained trial reports its validation score at a learning-curve grid of examples seen
 *   (stored as intermediate values); with `--pruner asha` the grid's points are ASHA's rungs and
 *   a trial the pruner stops is stored PRUNED with the step it reached.
 */
import { resolve } from 'node:path';
import { createExecutor } from '../exec/pool.js';
import { runJob } from '../exec/job.js';
import type { Executor } from '../exec/types.js';
import { describePeft } from '../peft/config.js';
import { SEARCH_DEFAULTS } from '../search/defaults.js';
import { createPruner, type Pruner, type PrunerName } from '../search/pruners/index.js';
import { createSampler, type SamplerName } from '../search/samplers/index.js';
import { autopeftObjectives, autopeftSpace } from '../search/space/autopeft.js';
import { createStudy, type Study } from '../search/study/index.js';
import type { Storage } from '../storage/types.js';
import type { TrainEvent } from '../train/trainer.js';
import { getBackbone, getTask, type TrialResult, type TrialSpec } from '../train/trial.js';
import type { AttrValue, Config, StudyRecord, TrialRecord } from '../trials/index.js';
import { UsageError } from '../core/errors.js';
import { TRIAL_JOB } from './jobs/trial.js';
import { type ClassifierHead, type PairEncoding, resolvePairEncoding } from '../models/types.js';
import { selectMetric } from '../data/metrics.js';
import type { ParamDenominator } from '../peft/params.js';
import type { SerialAdapterForm } from '../peft/config.js';
import {
  PLAN_KEY,
  SETUP_KEY,
  setupPairEncoding,
  setupPeft,
  setupProtocol,
  type SearchPlan,
  type SearchPruner,
  type SearchSetup,
} from './attrs.js';
import { EXTERNAL_TRIAL_JOB, externalHyper, type ExternalTrialResult } from './external-trial.js';
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
  /** How trials encode sentence pairs (default: the backbone's; recorded in the setup). */
  pairEncoding?: PairEncoding;
  /**
   * Pruner of the trials (ASHA's rungs are the learning-curve grid). Undefined: the stored study's,
   * else `SEARCH_DEFAULTS.pruner`.
   */
  pruner?: PrunerName;
  /** ASHA's reduction factor η. Undefined: the stored study's, else `SEARCH_DEFAULTS.ashaEta`. */
  ashaEta?: number;
  /** Trials that must reach a rung before ASHA prunes there. Undefined: the stored study's, else η + 1. */
  ashaMinTrials?: number;
  /** BO's observation noise model. Undefined: the stored study's, else `SEARCH_DEFAULTS.noise`. */
  noise?: 'learned' | 'binomial';
  /** The `--preset` used and the keys it set: recorded in the setup (the values are in the setup already). */
  preset?: { name: string; applied: string[] };
  /** Search objective and model-selection metric, checked to be one of the task's (default: its main metric). */
  metric?: string;
  /** BERT/RoBERTa classification head of every trial (default `pooler`). */
  head?: ClassifierHead;
  /** What param % divides by (default `encoder`). */
  paramDenominator?: ParamDenominator;
  /** Fixed hypervolume reference point [metric, paramPct] for BO and the report (default: inferred). */
  refPoint?: [number, number];
  /** Serial adapter form of every trial (default `houlsby`). */
  saForm?: SerialAdapterForm;
  /** 0: no dropout below each trial's lowest adapted layer, which is then cached (TrialSpec.frozenDropout). */
  frozenDropout?: number;
  /** Trials trained at once on this machine; 0 = only create the study and its plan (for `autopeft worker`). */
  workers: number;
  threadsPerWorker?: number;
  /** Run each trial as this shell command (config JSON on stdin, result JSON line on stdout). */
  trialCmd?: string;
  /** The command's time limit per trial. Default 6 h. */
  trialTimeoutMs?: number;
  /** Where external trials get their output folders (`<trialDir>/<study>/trial-<n>`). Default `autopeft-trials`. */
  trialDir?: string;
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
  | {
      kind: 'trial-pruned';
      number: number;
      /** The rung (examples seen) at which the pruner stopped it. */
      step: number;
      result: TrialResult;
      complete: number;
      failed: number;
      running: number;
    }
  | { kind: 'trial-log'; number: number; line: string }
  | {
      kind: 'external-done';
      number: number;
      metric: number;
      paramPct: number;
      intermediate: number[];
      seconds: number;
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
  /** Trials that failed through their config. */
  failed: number;
  /** Trials the pruner stopped (stored PRUNED). */
  pruned: number;
  interrupted: boolean;
}

export const HEARTBEAT_MS = 5000;
/** Trials RUNNING without a heartbeat for this long (another host's dead worker) are re-queued. */
export const STALE_MS = 60_000;
export const DEFAULT_TRIAL_TIMEOUT_MS = 6 * 3600_000;
export const DEFAULT_TRIAL_DIR = 'autopeft-trials';

/**
 * The first setting that differs between a stored study's setup and this run's, if any. `mainMetric`:
 * the task's own, which studies made before the metric was recorded were searched on.
 */
export function setupDiff(a: SearchSetup, b: SearchSetup, mainMetric?: string): string | undefined {
  const keys: (keyof SearchSetup)[] = ['model', 'task', 'sampler', 'lora', 'numLayers', 'hidden'];
  for (const k of keys)
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k]))
      return `${k} ${JSON.stringify(a[k])} (stored) vs ${JSON.stringify(b[k])} (now)`;
  // One search never mixes the two pair encodings.
  if (setupPairEncoding(a) !== setupPairEncoding(b))
    return `--pair-encoding ${setupPairEncoding(a)} (stored) vs ${setupPairEncoding(b)} (now)`;
  // One objective, one head, one param-% formula and one serial adapter per study.
  const ma = a.metric ?? mainMetric;
  const mb = b.metric ?? mainMetric;
  if (ma !== mb) return `--metric ${ma ?? 'the task default'} (stored) vs ${mb ?? 'the task default'} (now)`;
  const [pa, pb] = [setupProtocol(a), setupProtocol(b)];
  if (pa.head !== pb.head) return `--head ${pa.head} (stored) vs ${pb.head} (now)`;
  if (pa.paramDenominator !== pb.paramDenominator)
    return `--param-denominator ${pa.paramDenominator} (stored) vs ${pb.paramDenominator} (now)`;
  if (pa.saForm !== pb.saForm) return `--sa-form ${pa.saForm} (stored) vs ${pb.saForm} (now)`;
  const ref = (x: SearchSetup) => (x.refPoint ? x.refPoint.join(',') : 'inferred');
  if (ref(a) !== ref(b)) return `--ref-point ${ref(a)} (stored) vs ${ref(b)} (now)`;
  // The learning-curve grid is derived (from the data's size), and a resumed search reuses the stored one.
  const { checkpoints: _a, ...ha } = a.hyper;
  const { checkpoints: _b, ...hb } = b.hyper;
  if (
    JSON.stringify(ha) !== JSON.stringify(hb) ||
    JSON.stringify(a.fidelity ?? null) !== JSON.stringify(b.fidelity ?? null)
  )
    return 'training fidelity/hyperparameters differ';
  // Studies made before pruning and the noise model were recorded ran without either.
  const pra = prunerKey(a.pruner);
  const prb = prunerKey(b.pruner);
  if (pra !== prb) return `pruner ${pra} (stored) vs ${prb} (now)`;
  if ((a.noise ?? 'learned') !== (b.noise ?? 'learned'))
    return `noise ${a.noise ?? 'learned'} (stored) vs ${b.noise ?? 'learned'} (now)`;
  return undefined;
}

function prunerKey(p: SearchPruner | undefined): string {
  if (!p || p.name === 'none') return 'none';
  return `${p.name} (eta ${p.eta}, min trials ${p.minTrials})`;
}

/**
 * Training examples one trial sees in all: epochs over the (low-fidelity) training slice, cut at
 * max steps. When max steps end training mid-epoch this is a lower bound (the epoch's short batch
 * may come anywhere in its order), so a checkpoint placed here is always reached.
 */
export function examplesPerTrial(
  trainRows: number,
  hyper: Pick<TrialSpec['hyper'], 'epochs' | 'maxSteps' | 'batchSize'>,
  fidelity?: TrialSpec['fidelity'],
): number {
  // The training slice as runTrial takes it (src/train/trial.ts sliceTrain).
  const n =
    fidelity?.trainCount !== undefined || fidelity?.trainFraction !== undefined
      ? Math.min(trainRows, fidelity.trainCount ?? Math.max(1, Math.round((fidelity.trainFraction ?? 1) * trainRows)))
      : trainRows;
  const b = hyper.batchSize;
  const perEpoch = Math.ceil(n / b);
  const steps = Math.min(
    (fidelity?.epochs ?? hyper.epochs) * perEpoch,
    fidelity?.maxSteps ?? hyper.maxSteps ?? Infinity,
  );
  const full = Math.floor(steps / perEpoch);
  const rest = steps - full * perEpoch;
  const short = (b - (n % b)) % b;
  return full * n + (rest > 0 ? Math.max(1, rest * b - short) : 0);
}

/** Points of every trial's learning curve. */
export const CURVE_POINTS = 4;

/**
 * The learning-curve grid of a trial that sees `total` examples: total/η³, total/η², total/η,
 * total (rounded; points below one batch dropped). ASHA judges trials at all but the last: with
 * η = 2 the rungs are 1/8, 1/4 and 1/2 of the training, as in the recorded benchmark.
 */
export function curveSteps(total: number, eta: number, batchSize: number): number[] {
  const out: number[] = [];
  for (let k = CURVE_POINTS - 1; k >= 0; k--) {
    const s = Math.round(total / eta ** k);
    if (s >= Math.min(batchSize, total) && !out.includes(s)) out.push(s);
  }
  return out;
}

/** A stored study may be resumed only by a search with the same settings. */
function checkResumable(existing: StudyRecord, setup: SearchSetup, location: string, mainMetric?: string): void {
  const stored = existing.systemAttrs[SETUP_KEY] as unknown as SearchSetup | undefined;
  if (!stored)
    throw new UsageError(
      `study "${existing.name}" in ${location} was not created by autopeft search; choose another --study`,
    );
  const diff = setupDiff(stored, setup, mainMetric);
  if (diff)
    throw new UsageError(
      `study "${existing.name}" exists with other settings (${diff}); resume it with the same flags or choose another --study`,
    );
}

/** What one trial of a search produced: our trainer's result, or an external command's. */
export type SearchTrialResult =
  | { kind: 'trained'; result: TrialResult }
  | { kind: 'external'; result: ExternalTrialResult };

/** How a study's trials are run (from the flags of `search`, or the stored setup + plan for `worker`). */
export interface TrialRunSettings {
  study: string;
  setup: SearchSetup;
  trialCmd?: string;
  trialTimeoutMs?: number;
  trialDir?: string;
  onEvent?: (e: SearchEvent) => void;
}

/** Trial `t` as an executor job: trained at the study's fidelity, or run by the external command. */
export function searchTrialJob(
  o: TrialRunSettings,
  t: Pick<TrialRecord, 'number' | 'config'>,
  paramPct: (c: Config) => number,
): TrialJob<SearchTrialResult> {
  const { setup } = o;
  const peft = setupPeft(setup, t.config);
  const number = t.number;
  if (o.trialCmd !== undefined) {
    const args = {
      command: o.trialCmd,
      timeoutMs: o.trialTimeoutMs ?? DEFAULT_TRIAL_TIMEOUT_MS,
      input: {
        study: o.study,
        trial: number,
        model: setup.model,
        task: setup.task,
        ...(setup.dataDir !== undefined ? { dataDir: setup.dataDir } : {}),
        peft,
        hyper: externalHyper(setup.hyper),
        ...(setup.fidelity ? { fidelity: setup.fidelity } : {}),
        seed: setup.hyper.seed,
        outputDir: resolve(o.trialDir ?? DEFAULT_TRIAL_DIR, o.study, `trial-${number}`),
        paramPct: paramPct(t.config),
      },
    };
    return {
      run: async (ex: Executor) => ({
        kind: 'external',
        result: await runJob(ex, EXTERNAL_TRIAL_JOB, args, (e) =>
          o.onEvent?.({ kind: 'trial-log', number, line: e.line }),
        ),
      }),
      tell: (out) => {
        const r = out.result as ExternalTrialResult;
        return {
          values: { metric: r.metric }, // paramPct: the study computes the known objective
          userAttrs: {
            intermediate: r.intermediate,
            trainSeconds: r.seconds,
            trialCmd: o.trialCmd ?? null,
            description: describePeft(peft),
          },
        };
      },
    };
  }
  const spec: TrialSpec = {
    model: setup.model,
    task: setup.task,
    ...(setup.dataDir !== undefined ? { dataDir: setup.dataDir } : {}),
    peft,
    hyper: setup.hyper,
    ...(setup.fidelity ? { fidelity: setup.fidelity } : {}),
    pairEncoding: setupPairEncoding(setup),
    ...(setup.metric !== undefined ? { metric: setup.metric } : {}),
    ...(setup.head !== undefined ? { head: setup.head } : {}),
    ...(setup.paramDenominator !== undefined ? { paramDenominator: setup.paramDenominator } : {}),
    ...(setup.frozenDropout !== undefined ? { frozenDropout: setup.frozenDropout } : {}),
  };
  return {
    run: async (ex: Executor, control) => ({
      kind: 'trained',
      result: await runJob(
        ex,
        TRIAL_JOB,
        spec,
        (event) => {
          // Each learning-curve point is stored and judged by the pruner (which may stop the trial).
          if (event.kind === 'checkpoint') control.report(event.examples, event.metric);
          o.onEvent?.({ kind: 'trial-progress', number, event });
        },
        { stop: control.stop },
      ),
    }),
    tell: ({ result }) => {
      const r = result as TrialResult;
      return {
        values: { metric: r.metric }, // paramPct: the study computes the known objective
        userAttrs: trainedAttrs(r),
        stopped: r.stoppedAt !== undefined,
      };
    },
  };
}

function trainedAttrs(r: TrialResult): Record<string, AttrValue> {
  return {
    metricName: r.metricName,
    metrics: r.metrics,
    trainableParams: r.trainableParams,
    trainSeconds: r.trainSeconds,
    epochs: r.epochs,
    bestEpoch: r.bestEpoch,
    steps: r.steps,
    trainExamples: r.trainExamples,
    // The binomial noise model's n (BoSampler noise: 'binomial').
    validationExamples: r.validationExamples,
    ...(r.stoppedAt !== undefined ? { stoppedAt: r.stoppedAt } : {}),
    ...(r.head !== undefined ? { head: r.head } : {}),
    description: r.description,
  };
}

/** The loop's events as `SearchEvent`s (hypervolume and best metric over the study's complete trials). */
export function searchEvents(
  emit: (e: SearchEvent) => void,
  setup: Pick<SearchSetup, 'numLayers' | 'saForm' | 'refPoint'>,
  paramPct: (c: Config) => number,
): LoopEvents<SearchTrialResult> {
  return {
    start: (t) =>
      emit({
        kind: 'trial-start',
        number: t.number,
        description: describePeft(setupPeft(setup, t.config)),
      }),
    done: (t, out, c) => {
      const common = {
        number: t.number,
        hypervolume: hypervolumeOf(c.complete, referencePoint(c.complete, setup.refPoint)),
        bestMetric: Math.max(...c.complete.map((x) => x.values![0]!)),
        complete: c.complete.length,
        failed: c.failed,
        running: c.running,
      };
      if (out.kind === 'trained') emit({ kind: 'trial-done', result: out.result, ...common });
      else
        emit({
          kind: 'external-done',
          metric: out.result.metric,
          paramPct: paramPct(t.config),
          intermediate: out.result.intermediate,
          seconds: out.result.seconds,
          ...common,
        });
    },
    pruned: (t, step, out, c) => {
      // Only our trainer's trials report intermediate values, so only they are pruned.
      if (out.kind !== 'trained') return;
      emit({
        kind: 'trial-pruned',
        number: t.number,
        step,
        result: out.result,
        complete: c.complete.length,
        failed: c.failed,
        running: c.running,
      });
    },
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

/**
 * The Study of a search: the AutoPEFT objectives and space for the setup's model (param % by our
 * formula), the setup's sampler, heartbeats. Shared by `search` and `worker`.
 */
export async function openSearchStudy(o: {
  storage: Storage;
  study: string;
  setup: SearchSetup;
  nInit: number;
  heartbeatMs?: number;
  staleAfterMs?: number;
  workerId?: string;
}): Promise<{ study: Study; paramPct: (c: Config) => number; pruner: Pruner }> {
  const { setup } = o;
  const backbone = await getBackbone(setup.model);
  // Per-layer attention widths where the backbone has them (USE-lite: [256, 512]); paramPct counts PT/LoRA with them.
  const { attentionWidths } = backbone.dims;
  const objectives = autopeftObjectives({
    numLayers: setup.numLayers,
    hidden: setup.hidden,
    backboneParams: setup.backboneParams,
    ...(attentionWidths ? { attentionWidths } : {}),
    // The pooler's count comes from the backbone: older setups did not record it.
    ...(backbone.poolerParams !== undefined ? { poolerParams: backbone.poolerParams } : {}),
    paramDenominator: setupProtocol(setup).paramDenominator,
  });
  const space = autopeftSpace({ numLayers: setup.numLayers, hidden: setup.hidden, lora: setup.lora });
  const staleAfterMs = o.staleAfterMs ?? STALE_MS;
  const study = await createStudy({
    storage: o.storage,
    name: o.study,
    objectives,
    sampler: createSampler(setup.sampler, {
      space,
      objectives,
      seed: setup.seed,
      nInit: o.nInit,
      noise: setup.noise ?? 'learned',
      ...(setup.refPoint ? { referencePoint: setup.refPoint } : {}),
    }),
    loadIfExists: true,
    systemAttrs: { [SETUP_KEY]: setup as unknown as AttrValue },
    heartbeat: { intervalMs: o.heartbeatMs ?? HEARTBEAT_MS, staleAfterMs, requeueStale: true },
    ...(o.workerId !== undefined ? { workerId: o.workerId } : {}),
  });
  const known = objectives.find((x) => x.known)!.known!;
  const p = setup.pruner;
  const pruner = createPruner(p?.name ?? 'none', {
    objectives,
    ...(p?.rungs ? { rungs: p.rungs } : {}),
    ...(p?.eta !== undefined ? { eta: p.eta } : {}),
    ...(p?.minTrials !== undefined ? { minTrials: p.minTrials } : {}),
  });
  return { study, paramPct: known, pruner };
}

export async function runSearch(o: SearchOptions): Promise<SearchOutcome> {
  if (!(o.trials >= 1)) throw new UsageError(`--trials must be >= 1, got ${o.trials}`);
  if (!(Number.isInteger(o.workers) && o.workers >= 0))
    throw new UsageError(`--workers must be an integer >= 0, got ${o.workers}`);
  if (!(o.batch >= 1)) throw new UsageError(`--batch must be >= 1, got ${o.batch}`);
  const backbone = await getBackbone(o.model);
  const { numLayers, hidden } = backbone.dims;
  if (o.trialCmd !== undefined && (o.metric !== undefined || o.head !== undefined))
    throw new UsageError(
      '--metric and --head set how our trainer scores and builds a trial; a --trial-cmd command chooses its own: drop them',
    );
  if (o.refPoint && !o.refPoint.every(Number.isFinite))
    throw new UsageError(`--ref-point must be two finite numbers METRIC,PCT, got ${o.refPoint.join(',')}`);
  // The metric is checked against the task (and recorded resolved) before the study exists.
  const info = o.trialCmd === undefined ? (await getTask(o.task, o.dataDir, 0)).info : undefined;
  const mainMetric = info?.mainMetric;
  const metric = info ? selectMetric(info, o.metric).mainMetric : undefined;
  const existing = await o.storage.findStudy(o.study);
  const stored = existing?.systemAttrs[SETUP_KEY] as unknown as SearchSetup | undefined;
  const controls = await searchControls(o, stored);
  const setup: SearchSetup = {
    model: o.model,
    task: o.task,
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    numLayers,
    hidden,
    backboneParams: backbone.backboneParams,
    sampler: o.sampler,
    seed: o.seed,
    hyper: { ...o.hyper, ...(controls.checkpoints ? { checkpoints: controls.checkpoints } : {}) },
    ...(o.fidelity ? { fidelity: o.fidelity } : {}),
    lora: o.lora,
    pairEncoding: resolvePairEncoding(backbone, o.pairEncoding),
    pruner: controls.pruner,
    noise: controls.noise,
    ...(o.preset ? { preset: o.preset } : {}),
    ...(metric !== undefined ? { metric } : {}),
    ...(o.head !== undefined ? { head: o.head } : {}),
    ...(o.paramDenominator !== undefined ? { paramDenominator: o.paramDenominator } : {}),
    ...(o.refPoint ? { refPoint: [o.refPoint[0], o.refPoint[1]] as [number, number] } : {}),
    ...(o.saForm !== undefined ? { saForm: o.saForm } : {}),
    ...(o.frozenDropout !== undefined ? { frozenDropout: o.frozenDropout } : {}),
  };
  if (existing) checkResumable(existing, setup, o.storage.location, mainMetric);
  const { study, paramPct, pruner } = await openSearchStudy({
    storage: o.storage,
    study: o.study,
    setup,
    nInit: o.nInit,
  });
  // The plan `autopeft worker`s follow: the latest search's target, batch and trial command.
  const plan: SearchPlan = {
    trials: o.trials,
    nInit: o.nInit,
    batch: o.batch,
    ...(o.trialCmd !== undefined ? { trialCmd: o.trialCmd } : {}),
    ...(o.trialTimeoutMs !== undefined ? { trialTimeoutMs: o.trialTimeoutMs } : {}),
  };
  await study.setSystemAttr(PLAN_KEY, plan as unknown as AttrValue);
  const executor = o.workers === 0 ? undefined : createExecutor(o.workers, o.threadsPerWorker);
  try {
    const requeued = existing && executor ? await resume(study, { staleAfterMs: STALE_MS }) : 0;
    const c = await studyCounts(study);
    const start = { resumed: existing !== undefined, complete: c.complete.length, failed: c.failed, requeued };
    o.onEvent?.({ kind: 'start', ...start, total: o.trials });
    if (!executor) {
      o.onEvent?.({ kind: 'stopped', reason: 'done' });
      const pruned = (await study.trials(['PRUNED'])).length;
      return { complete: c.complete.length, failed: c.failed - pruned, pruned, interrupted: false };
    }
    const run: TrialRunSettings = {
      study: o.study,
      setup,
      ...(o.trialCmd !== undefined ? { trialCmd: o.trialCmd } : {}),
      ...(o.trialTimeoutMs !== undefined ? { trialTimeoutMs: o.trialTimeoutMs } : {}),
      ...(o.trialDir !== undefined ? { trialDir: o.trialDir } : {}),
      ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    };
    const jobFor = (t: TrialRecord) => searchTrialJob(run, t, paramPct);
    const target = { trials: o.trials, batch: o.batch, pruner, ...(o.signal ? { signal: o.signal } : {}) };
    const emit = o.onEvent ?? (() => undefined);
    const loop = await runStudy(study, executor, jobFor, target, searchEvents(emit, setup, paramPct));
    // The loop counts pruned trials with the failed ones (neither is complete); the CLI tells them apart.
    const pruned = (await study.trials(['PRUNED'])).length;
    const out = { ...loop, failed: loop.failed - pruned, pruned };
    o.onEvent?.({ kind: 'stopped', reason: out.interrupted ? 'interrupted' : 'done' });
    return out;
  } finally {
    await study.close();
    await executor?.close();
  }
}

/**
 * The pruner, its rungs, the learning-curve grid and the noise model of a search: the flags given,
 * else the stored study's (a resumed search judges and models its trials as before; studies made
 * before these were recorded had none and 'learned'), else `SEARCH_DEFAULTS`. The grid is computed
 * once from the task's training size and stored in the setup's `hyper.checkpoints`.
 */
async function searchControls(
  o: SearchOptions,
  stored: SearchSetup | undefined,
): Promise<{ pruner: SearchPruner; noise: 'learned' | 'binomial'; checkpoints?: number[] }> {
  const external = o.trialCmd !== undefined;
  // An external command reports its values only at its end: nothing to prune while it runs.
  const name = o.pruner ?? (stored ? (stored.pruner?.name ?? 'none') : external ? 'none' : SEARCH_DEFAULTS.pruner);
  if (name === 'asha' && external)
    throw new UsageError(
      '--pruner asha needs live intermediate values, and a --trial-cmd trial reports only at its end; use --pruner none',
    );
  if (name !== 'asha' && (o.ashaEta !== undefined || o.ashaMinTrials !== undefined))
    throw new UsageError(`--asha-eta and --asha-min-trials apply to --pruner asha, not --pruner ${name}`);
  if (o.ashaEta !== undefined && !(o.ashaEta > 1))
    throw new UsageError(`--asha-eta must be > 1 (the best 1/eta of the trials at a rung go on), got ${o.ashaEta}`);
  if (o.ashaMinTrials !== undefined && !(Number.isInteger(o.ashaMinTrials) && o.ashaMinTrials >= 1))
    throw new UsageError(`--asha-min-trials must be an integer >= 1, got ${o.ashaMinTrials}`);
  const noise = o.noise ?? (stored ? (stored.noise ?? 'learned') : external ? 'learned' : SEARCH_DEFAULTS.noise);
  if (o.noise === 'binomial' && o.sampler !== 'bo')
    throw new UsageError(`--noise binomial is the noise model of --sampler bo; --sampler ${o.sampler} has none`);
  if (noise === 'binomial' && external)
    throw new UsageError(
      "--noise binomial needs each trial's validation size, which a --trial-cmd trial does not report; use --noise learned",
    );
  const storedAsha = stored?.pruner?.name === 'asha' ? stored.pruner : undefined;
  const eta = o.ashaEta ?? storedAsha?.eta ?? SEARCH_DEFAULTS.ashaEta;
  const minTrials = o.ashaMinTrials ?? storedAsha?.minTrials ?? Math.ceil(eta) + 1;
  if (stored) {
    // A resumed study keeps its grid and rungs (the data or its size may have changed since); a
    // flag that differs from the stored setting is reported by setupDiff.
    const checkpoints = stored.hyper.checkpoints;
    const pruner: SearchPruner = name === 'asha' ? { name, rungs: storedAsha?.rungs ?? [], eta, minTrials } : { name };
    return { pruner, noise, ...(checkpoints ? { checkpoints } : {}) };
  }
  if (external) return { pruner: { name }, noise };
  const data = await getTask(o.task, o.dataDir, 0);
  const total = examplesPerTrial(data.train.length, o.hyper, o.fidelity);
  const checkpoints = curveSteps(total, name === 'asha' ? eta : SEARCH_DEFAULTS.ashaEta, o.hyper.batchSize);
  const rungs = checkpoints.slice(0, -1);
  if (name !== 'asha') return { pruner: { name }, noise, checkpoints };
  if (rungs.length === 0)
    throw new UsageError(
      `--pruner asha: a trial sees ${total} training examples, too few for a rung before its end (batch size ${o.hyper.batchSize}); train longer (--epochs, --train-limit) or use --pruner none`,
    );
  return { pruner: { name, rungs, eta, minTrials }, noise, checkpoints };
}
