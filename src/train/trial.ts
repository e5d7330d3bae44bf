/**
 * One trial = train one PEFT configuration on one task and score it. This is the job every
 * command runs (`train`, each `search` trial, `retrain`, `baselines`, `transfer`), inline or in a
 * pool worker (as the exec job of src/pipeline/jobs/trial.ts).
 *
 * Splits: the model is selected (best epoch, early stopping) on the validation split — a file, or
 * carved from train with a fixed seed — and `metric` is that split's score, so a search never
 * touches the official dev set. With `reportDev`, the best weights are also scored on the official
 * dev set (`devMetric`), which is what `train`, `retrain` and `baselines` report.
 */
import { loadTask } from '../data/tasks/load.js';
import { subsample } from '../data/split.js';
import type { TaskData } from '../data/tasks/types.js';
import { createPeft } from '../peft/create.js';
import { describePeft, isNoop, parsePeftConfig, type PeftConfig, type PeftModelLimits } from '../peft/config.js';
import { paperParamPct, paramDenominatorOf, type ParamDenominator } from '../peft/params.js';
import { selectMetric } from '../data/metrics.js';
import type { MetricName } from '../data/tasks/types.js';
import { loadBackbone, type Backbone } from '../models/backbone.js';
import {
  type ClassifierHead,
  PAIR_HEADS,
  type PairEncoding,
  type PairHead,
  PairEncodingError,
  resolvePairEncoding,
} from '../models/types.js';
import { TrainingError } from './errors.js';
import { effectivePairEncoding, trainClassifier, type TrainEvent, type TrainHyper } from './trainer.js';
import { cacheLayerFor } from './layer-cache.js';
import { sharedPrefixStore } from './prefix-store.js';
import { cacheableLayer } from '../peft/types.js';

export interface Fidelity {
  /** Use this fraction of the (post-validation) training split. */
  trainFraction?: number;
  /** Use this many training examples (wins over the fraction). */
  trainCount?: number;
  /** Override the epochs / max steps of the hyperparameters. */
  epochs?: number;
  maxSteps?: number;
}

export interface TrialSpec {
  /** 'use-lite', a checkpoint folder, or a hub id. */
  model: string;
  /** Built-in task name, or a path to a JSON task spec. */
  task: string;
  dataDir?: string;
  /**
   * The full PEFT config, options included (the search's flat encoding is mapped by
   * `peftFromSearch` in src/search/space/autopeft.ts before it gets here). Checked against the
   * model (layer count, size bounds) when the trial starts.
   */
  peft: PeftConfig;
  /** Train every backbone weight (full fine-tuning baseline); `peft` must then be a no-op (`emptyPeftConfig`). */
  fullFineTune?: boolean;
  hyper: TrainHyper;
  fidelity?: Fidelity;
  /** Also score the best weights on the official dev set. */
  reportDev?: boolean;
  /** Seed of the validation carve (fixed across trials so they are comparable). Default 0. */
  splitSeed?: number;
  /** Frozen-prefix caching when the backbone allows it (default true; see ./layer-cache.ts). */
  layerCache?: boolean;
  /**
   * `--frozen-dropout 0`: no dropout in the frozen layers below the lowest adapted layer (a deviation
   * from BERT/RoBERTa's training), which makes them cacheable and their rows shareable across the
   * trials of a study. Absent: the model's dropout everywhere. Only 0 is accepted.
   */
  frozenDropout?: number;
  /** Save the trained adapter (PEFT + head weights, adapter_config.json) into this folder. */
  saveDir?: string;
  /** How sentence pairs are encoded (default: the backbone's, `resolvePairEncoding`). */
  pairEncoding?: PairEncoding;
  /** Siamese head (default: the backbone's `defaultPairHead`). */
  pairHead?: PairHead;
  /** The metric to select on and report as `metric` (default: the task's main metric); one of the task's. */
  metric?: MetricName;
  /** BERT/RoBERTa classification head (default `pooler`; `fresh`: the reference's). */
  head?: ClassifierHead;
  /** What `paramPct` divides by (default `encoder`; `with-pooler`: the reference's). */
  paramDenominator?: ParamDenominator;
}

export interface TrialResult {
  /** Main metric on the validation split (what the search optimises). */
  metric: number;
  metricName: string;
  metrics: Record<string, number>;
  devMetric?: number;
  devMetrics?: Record<string, number>;
  /** The paper's tunable-parameter % (`paperParamPct` of the config; 100 for full fine-tuning). */
  paramPct: number;
  /** The PEFT config the trial trained, options included (as checked against the model). */
  peft: PeftConfig;
  /** Exact trainable parameters: PEFT (+ biases, PT MLP) + head. */
  trainableParams: number;
  trainSeconds: number;
  epochs: number;
  bestEpoch: number;
  steps: number;
  trainExamples: number;
  /** Examples of the validation split `metric` is scored on, and of the dev set (with `reportDev`). */
  validationExamples: number;
  devExamples?: number;
  /** Learning curve: validation main metric at each of `hyper.checkpoints` reached (examples seen). */
  curve: { examples: number; metric: number; trainSeconds: number }[];
  /** Training examples seen when the `stop` hook ended training early (a pruned trial); absent otherwise. */
  stoppedAt?: number;
  description: string;
  savedTo?: string;
  /** The pair encoding the trial trained with (pair tasks; single-text ones are encoded alike). */
  pairEncoding?: PairEncoding;
  /** The classification head it trained (BERT/RoBERTa; absent for backbones without a pooler). */
  head?: ClassifierHead;
}

// A pool worker runs many trials: keep the backbone and the task data between them.
const backbones = new Map<string, Promise<Backbone>>();
const tasks = new Map<string, Promise<TaskData>>();

export function getBackbone(model: string): Promise<Backbone> {
  let b = backbones.get(model);
  if (!b) {
    b = loadBackbone(model);
    backbones.set(model, b);
    b.catch(() => backbones.delete(model));
  }
  return b;
}

export function getTask(task: string, dataDir: string | undefined, splitSeed: number): Promise<TaskData> {
  const key = JSON.stringify([task, dataDir ?? null, splitSeed]);
  let t = tasks.get(key);
  if (!t) {
    t = loadTask(task, {
      ...(dataDir !== undefined ? { dataDir } : {}),
      validation: { fraction: 0.1, maxCount: 1000, seed: splitSeed },
    });
    tasks.set(key, t);
    t.catch(() => tasks.delete(key));
  }
  return t;
}

/** What the size bounds of a PEFT config depend on (see `peftBounds`). */
export function peftLimitsOf(backbone: Backbone): PeftModelLimits {
  return { ...backbone.dims, maxLength: backbone.maxLength };
}

function sliceTrain(data: TaskData, f: Fidelity | undefined, seed: number): TaskData['train'] {
  if (!f || (f.trainCount === undefined && f.trainFraction === undefined)) return data.train;
  const n = f.trainCount ?? Math.max(1, Math.round((f.trainFraction ?? 1) * data.train.length));
  if (n >= data.train.length) return data.train;
  // The data room's one seeded subsample, stratified: a low-fidelity trial keeps the label shares.
  return subsample(data.train, { count: n, seed, regression: data.info.regression });
}

/** Runs one trial; usable directly or as an exec job (`TRIAL_JOB` in src/pipeline/jobs/trial.ts). */
export async function runTrial(
  spec: TrialSpec,
  hooks: { onEvent?: (e: TrainEvent) => void; signal?: AbortSignal; threads?: number; stop?: () => boolean } = {},
): Promise<TrialResult> {
  const backbone = await getBackbone(spec.model);
  const data = await getTask(spec.task, spec.dataDir, spec.splitSeed ?? 0);
  // Whatever built the spec (CLI, search, a worker's JSON), the config is checked here once more.
  const cfg = parsePeftConfig(spec.peft, peftLimitsOf(backbone), 'trial PEFT config');
  if (spec.fullFineTune && !isNoop(cfg))
    throw new TrainingError('full fine-tuning takes no PEFT modules; pass an empty --peft');
  if (!spec.fullFineTune && isNoop(cfg))
    throw new TrainingError(
      `the PEFT config ${describePeft(cfg)} trains nothing but the head; switch on at least one module in one layer`,
    );
  // The chosen metric becomes the task's main one: early stopping, best epoch and `metric` follow it.
  const info = selectMetric(data.info, spec.metric);
  if (spec.head === 'fresh' && backbone.kind === 'use-lite')
    throw new TrainingError(
      '--head fresh replaces the BERT/RoBERTa pooler; use-lite has none (its head is trained from scratch already): drop --head',
    );
  if (spec.frozenDropout !== undefined && spec.frozenDropout !== 0)
    throw new TrainingError(
      `--frozen-dropout takes 0 (no dropout below the lowest adapted layer), got ${spec.frozenDropout}; drop the flag to keep the model's dropout`,
    );
  const frozenOff = spec.frozenDropout === 0;
  const validation = data.validation ?? [];
  if (validation.length === 0) throw new TrainingError(`task ${spec.task} has no validation split to select on`);
  const train = sliceTrain(data, spec.fidelity, spec.hyper.seed);
  const hyper: TrainHyper = { ...spec.hyper };
  if (spec.fidelity?.epochs !== undefined) hyper.epochs = spec.fidelity.epochs;
  if (spec.fidelity?.maxSteps !== undefined) hyper.maxSteps = spec.fidelity.maxSteps;
  if (hooks.threads !== undefined) hyper.threads = hooks.threads;
  const dims = backbone.dims;
  const pairEncoding = resolvePairEncoding(backbone, spec.pairEncoding);
  if (spec.pairHead !== undefined && !PAIR_HEADS.includes(spec.pairHead))
    throw new PairEncodingError(`--pair-head must be one of ${PAIR_HEADS.join(', ')}, got '${spec.pairHead}'`);
  const pairHead = spec.pairHead ?? backbone.defaultPairHead?.(data.info.regression) ?? 'linear';
  if (pairHead === 'cosine' && !data.info.regression)
    throw new PairEncodingError(`--pair-head cosine is for regression tasks; ${spec.task} is a classification task`);
  const curve: TrialResult['curve'] = [];
  const onEvent = (e: TrainEvent): void => {
    if (e.kind === 'checkpoint') curve.push({ examples: e.examples, metric: e.metric, trainSeconds: e.trainSeconds });
    hooks.onEvent?.(e);
  };
  const out = await trainClassifier({
    ...hyper,
    backbone,
    task: info,
    train,
    eval: validation,
    ...(spec.head ? { head: spec.head } : {}),
    hooks: () => createPeft(cfg, dims, { seed: hyper.seed }).hooks,
    cacheLayer: spec.layerCache === false ? 0 : cacheLayerFor(backbone, cfg, spec.fullFineTune === true, frozenOff),
    // The frozen prefix without dropout whether or not it is cached: the same model either way.
    ...(frozenOff ? { noDropoutBelow: cacheableLayer(cfg, spec.fullFineTune === true) } : {}),
    ...(spec.layerCache === false ? {} : { prefixStore: sharedPrefixStore() }),
    pairEncoding,
    pairHead,
    ...(spec.fullFineTune ? { fullFineTune: true } : {}),
    onEvent,
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    ...(hooks.stop ? { stop: hooks.stop } : {}),
  });
  try {
    const pct = spec.fullFineTune ? 100 : paperParamPct(cfg, dims, paramDenominatorOf(backbone, spec.paramDenominator));
    const result: TrialResult = {
      metric: out.best.metric,
      metricName: info.mainMetric,
      metrics: out.best.metrics as Record<string, number>,
      paramPct: pct,
      peft: cfg,
      trainableParams: out.trainableParams,
      trainSeconds: out.trainSeconds,
      epochs: out.history.length,
      bestEpoch: out.best.epoch,
      steps: out.steps,
      trainExamples: train.length,
      validationExamples: validation.length,
      curve,
      ...(out.stopped ? { stoppedAt: out.stopped.examplesSeen } : {}),
      description: spec.fullFineTune ? 'full fine-tuning' : describePeft(cfg),
      pairEncoding,
      ...(backbone.poolerParams !== undefined ? { head: spec.head ?? 'pooler' } : {}),
    };
    if (spec.reportDev) {
      if (!data.dev || data.dev.length === 0)
        throw new TrainingError(`task ${spec.task} has no dev split to report on`);
      const dev = await out.evaluate(data.dev);
      result.devMetric = dev.main;
      result.devExamples = data.dev.length;
      result.devMetrics = dev.metrics as Record<string, number>;
    }
    if (spec.saveDir) {
      const { saveTrained } = await import('./save.js');
      await saveTrained(spec.saveDir, {
        model: spec.model,
        task: spec.task,
        cfg,
        backbone,
        info,
        params: out.params,
        pair: { encoding: effectivePairEncoding(pairEncoding, train), head: pairHead },
        extra: {
          metric: result.metric,
          metrics: result.metrics,
          devMetrics: result.devMetrics ?? null,
          paramPct: result.paramPct,
          trainableParams: result.trainableParams,
          hyper: spec.hyper,
          fidelity: spec.fidelity ?? null,
          fullFineTune: spec.fullFineTune ?? false,
          metricName: info.mainMetric,
          head: spec.head ?? 'pooler',
          paramDenominator: spec.paramDenominator ?? 'encoder',
        },
      });
      result.savedTo = spec.saveDir;
    }
    return result;
  } finally {
    await out.release();
  }
}
