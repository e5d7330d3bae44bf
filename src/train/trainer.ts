/**
 * The trainer: fine-tunes PEFT modules + a task head on a backbone with AdamW, a linear warm-up /
 * decay schedule, evaluation every epoch, early stopping with patience, and the best weights kept.
 * It composes the pieces of this room:
 *
 * - batches: length-bucketed and padded to a multiple of `seqBucket` tokens (data/batching.ts);
 * - frozen-prefix cache: the rows entering the lowest PEFT layer, computed once (./layer-cache.ts);
 * - programs: one training program with a symbolic sequence axis (or one per padded length), one
 *   AdamW run (./shared-programs.ts), so short inputs cost short compute; the loss is ./loss.ts's,
 *   the feeds ./feeds.ts's;
 * - the epoch loop with early stopping and best weights (./epochs.ts);
 * - divergence checks on every loss, the weights and the evaluation outputs (./divergence.ts);
 * - sentence pairs encoded as one sequence (`cross`) or each text on its own (`siamese`: two token
 *   streams, two cached row sets, one graph; models/types.ts `PairEncoding`).
 */
import { Batcher, tokenizeExamples } from '../data/batching.js';
import { computeMetrics, labelsOf, type MetricResult } from '../data/metrics.js';
import type { Example, TaskInfo } from '../data/tasks/types.js';
import type { Backbone, EncoderHooks } from '../models/backbone.js';
import type { ClassifierHead, PairEncoding, PairHead } from '../models/types.js';
import type { NamedTensor } from '../runtime/params.js';
import { compileTraining } from '../runtime/training.js';
import { batchLoss, DivergenceGuard, naturalLossScale } from './divergence.js';
import { type EpochEvent, type EpochRecord, runEpochs } from './epochs.js';
import { TrainingError } from './errors.js';
import { batchFeeds, predictionsOf } from './feeds.js';
import { type CacheEvent, type CachedRows, openCachedRows } from './layer-cache.js';
import { buildLoss, lossFeeds } from './loss.js';
import type { PrefixStore } from './prefix-store.js';
import { type LengthProgram, SharedTrainingPrograms } from './shared-programs.js';

export type { EpochRecord } from './epochs.js';

export interface TrainHyper {
  /** Passes over the training set (the run also stops at maxSteps). */
  epochs: number;
  maxSteps?: number;
  lr: number;
  batchSize: number;
  evalBatchSize?: number;
  /** Longest input in tokens (special tokens included); capped by the backbone's maximum. */
  maxLength: number;
  seed: number;
  /** Fraction of the steps spent warming up (default 0.06). */
  warmupRatio?: number;
  /** Decoupled weight decay (default 0.01; none on biases and LayerNorm). */
  weightDecay?: number;
  /** Stop after this many epochs without a better eval metric (default: never). */
  patience?: number;
  /** Pad lengths to multiples of this (default 16). */
  seqBucket?: number;
  /** Intra-op threads (default: all cores). */
  threads?: number;
  /** Clip the global gradient norm (default 1.0, as Hugging Face's Trainer). */
  maxGradNorm?: number;
  /** Also score the eval split once this many training examples have been seen (learning curves). */
  checkpoints?: number[];
}

export type TrainEvent =
  | { kind: 'start'; totalSteps: number; epochs: number; trainExamples: number }
  | EpochEvent
  | CacheEvent;

export interface TrainerOptions extends TrainHyper {
  backbone: Backbone;
  task: TaskInfo;
  train: readonly Example[];
  /** Examples the epoch evaluations (early stopping, best weights) are scored on. */
  eval: readonly Example[];
  /** PEFT modules: called once per built graph (hooks create their params on that graph). */
  hooks?: () => EncoderHooks | undefined;
  /** Head weights to start from (evaluation of a saved adapter). */
  headWeights?: ReadonlyMap<string, { data: Float32Array }>;
  fullFineTune?: boolean;
  /**
   * Frozen-prefix caching (see ./layer-cache.ts): train from layer k's cached input. 0 or absent:
   * off. Only for backbones whose layers below k are deterministic (USE-lite).
   */
  cacheLayer?: number;
  /** Do not cache when the cached rows would exceed this many bytes (default 3e9). */
  cacheMaxBytes?: number;
  /** Cached rows shared across the trials of a study (./prefix-store.ts); with `cacheLayer`. */
  prefixStore?: PrefixStore | undefined;
  /**
   * No dropout in the embeddings and layers below this one (`--frozen-dropout 0`): BERT/RoBERTa's
   * frozen prefix becomes deterministic, so it can be cached (`cacheLayer` up to this layer).
   */
  noDropoutBelow?: number;
  /**
   * `symbolic` (default): one training program takes every padded length; `per-length`: one
   * program per padded length (docs/engine.md, "One program for all lengths").
   */
  programs?: 'symbolic' | 'per-length';
  /**
   * How pairs are encoded (default 'cross'; `resolvePairEncoding` gives the backbone's). Only pair
   * tasks (examples with a second text) are affected.
   */
  pairEncoding?: PairEncoding;
  /** Siamese head (default: the backbone's `defaultPairHead`). */
  pairHead?: PairHead;
  /** BERT/RoBERTa classification head (default `pooler`; models/types.ts `ClassifierHead`). */
  head?: ClassifierHead;
  onEvent?: (e: TrainEvent) => void;
  signal?: AbortSignal;
  /** Asked before every step; true ends training there with what it reached (see `EpochLoop.stop`). */
  stop?: () => boolean;
}

export interface TrainOutcome {
  best: EpochRecord;
  history: EpochRecord[];
  steps: number;
  trainSeconds: number;
  /** Trainable params (PEFT + head) at the best epoch. */
  params: Map<string, NamedTensor>;
  /** Exact trainable parameter count. */
  trainableParams: number;
  /** Set when `stop` ended training early: the step and training examples seen there. */
  stopped?: { step: number; examplesSeen: number };
  /** Scores other examples (e.g. the official dev set) with the best weights. */
  evaluate(examples: readonly Example[]): Promise<MetricResult>;
  release(): Promise<void>;
}

const isNoDecay = (name: string) => name.endsWith('.bias') || /LayerNorm|layer_norm|\.ln\b|norm\./i.test(name);

/** Compiles the training program (forward + loss + backward + AdamW) of one padded length. */
async function compileLength(
  opts: TrainerOptions,
  plan: RunPlan,
  seqLen: number,
  fromLayer: number,
): Promise<LengthProgram> {
  const built = opts.backbone.buildClassifier({
    seqLen: opts.programs === 'per-length' ? seqLen : 'seq',
    numLabels: plan.numLabels,
    hooks: opts.hooks?.(),
    seed: opts.seed,
    dropout: true,
    headWeights: opts.headWeights,
    fullFineTune: opts.fullFineTune,
    ...(fromLayer > 0 ? { fromLayer } : {}),
    ...(opts.noDropoutBelow ? { noDropoutBelow: opts.noDropoutBelow } : {}),
    ...(opts.head ? { head: opts.head } : {}),
    ...plan.pairOptions,
  });
  const train = await compileTraining({
    loss: buildLoss(built.logits, opts.task.regression),
    params: built.graph.params,
    optimizer: { weightDecay: opts.weightDecay ?? 0.01, noDecay: isNoDecay, maxGradNorm: opts.maxGradNorm ?? 1.0 },
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
  });
  return { train, inputNames: built.inputNames, logits: built.logits };
}

/** The encoding the run's examples get: siamese only for a pair task (examples with a second text). */
export function effectivePairEncoding(
  requested: PairEncoding | undefined,
  examples: readonly { pair?: string | undefined }[],
): PairEncoding {
  return requested === 'siamese' && examples.some((e) => e.pair !== undefined) ? 'siamese' : 'cross';
}

/** The pair options of `buildClassifier` for this run (none unless siamese). */
function pairBuildOptions(opts: TrainerOptions, pairEncoding: PairEncoding) {
  if (pairEncoding !== 'siamese') return {};
  let lo = Infinity;
  let hi = -Infinity;
  for (const e of opts.task.regression ? opts.train : []) {
    lo = Math.min(lo, e.label);
    hi = Math.max(hi, e.label);
  }
  return {
    pairEncoding: 'siamese' as const,
    ...(opts.pairHead ? { pairHead: opts.pairHead } : {}),
    ...(hi > lo ? { labelRange: [lo, hi] as const } : {}),
  };
}

/** The training batches and the step budget; rejects a run with nothing to train or score. */
function planRun(opts: TrainerOptions) {
  if (opts.train.length === 0) throw new TrainingError('no training examples; check --data and the task name');
  if (opts.eval.length === 0)
    throw new TrainingError('no evaluation examples; the task needs a validation or dev split');
  const maxLength = Math.min(opts.maxLength, opts.backbone.maxLength);
  const seqBucket = opts.seqBucket ?? 16;
  const pairEncoding = effectivePairEncoding(opts.pairEncoding, opts.train);
  const batcher = new Batcher(opts.train, opts.backbone.tokenizer, {
    batchSize: opts.batchSize,
    maxLength,
    padToMultipleOf: seqBucket,
    seed: opts.seed,
    regression: opts.task.regression,
    pairEncoding,
  });
  const totalSteps = Math.min(opts.maxSteps ?? Infinity, opts.epochs * batcher.numBatches);
  if (!(totalSteps > 0)) throw new TrainingError(`nothing to train: epochs ${opts.epochs}, max steps ${opts.maxSteps}`);
  const numLabels = opts.task.regression ? 1 : opts.task.numLabels;
  const pairOptions = pairBuildOptions(opts, pairEncoding);
  return { maxLength, seqBucket, pairEncoding, pairOptions, batcher, totalSteps, numLabels };
}

type RunPlan = ReturnType<typeof planRun>;

/** The frozen-prefix cache of the training and evaluation examples, when `cacheLayer` asks for one. */
function openCache(opts: TrainerOptions, plan: RunPlan): Promise<CachedRows | undefined> {
  if (!((opts.cacheLayer ?? 0) > 0)) return Promise.resolve(undefined);
  const evalTokens = tokenizeExamples(opts.eval, opts.backbone.tokenizer, plan.maxLength, plan.pairEncoding);
  return openCachedRows({
    backbone: opts.backbone,
    layer: opts.cacheLayer!,
    sets: [plan.batcher.tokens, evalTokens],
    threads: opts.threads,
    maxBytes: opts.cacheMaxBytes,
    store: opts.prefixStore,
    onEvent: opts.onEvent,
  });
}

/** Scores examples with the current weights, checking the outputs and their loss for divergence. */
function scorer(
  opts: TrainerOptions,
  plan: RunPlan,
  programs: SharedTrainingPrograms,
  cached: CachedRows | undefined,
  guard: DivergenceGuard,
) {
  const { task } = opts;
  const { numLabels } = plan;
  return async (examples: readonly Example[], step: number): Promise<MetricResult> => {
    const eb = new Batcher(examples, opts.backbone.tokenizer, {
      batchSize: opts.evalBatchSize ?? Math.max(opts.batchSize, 64),
      maxLength: plan.maxLength,
      padToMultipleOf: plan.seqBucket,
      shuffle: false,
      regression: task.regression,
      pairEncoding: plan.pairEncoding,
    });
    const hidden = cached && (await cached.rows(eb.tokens));
    const logits = await programs.forward(eb.batches(), examples.length, numLabels, hidden);
    guard.outputs(step, logits);
    const labels = labelsOf(examples);
    const loss = batchLoss(logits, labels, numLabels, task.regression);
    if (loss.rows > 0) guard.evalLoss(step, loss.sum / loss.rows);
    return computeMetrics(task, predictionsOf(logits, examples.length, numLabels, task.regression), labels);
  };
}

export async function trainClassifier(opts: TrainerOptions): Promise<TrainOutcome> {
  const { task } = opts;
  const plan = planRun(opts);
  const { numLabels, totalSteps } = plan;
  const cached = await openCache(opts, plan);
  let trainableParams = 0;
  const programs = new SharedTrainingPrograms(async (seq) => {
    const p = await compileLength(opts, plan, seq, cached?.layer ?? 0);
    trainableParams = p.train.store.size;
    return p;
  }, opts.programs !== 'per-length');
  const guard = new DivergenceGuard(naturalLossScale(task.regression, numLabels, labelsOf(opts.train)), opts.lr);
  const trainRows = cached && (await cached.rows(plan.batcher.tokens));

  const predict = scorer(opts, plan, programs, cached, guard);
  const release = async () => {
    await programs.release();
    await cached?.release();
  };

  opts.onEvent?.({ kind: 'start', totalSteps, epochs: opts.epochs, trainExamples: opts.train.length });
  const t0 = performance.now();
  // A failed run (diverged, interrupted) frees its sessions: a pool worker runs many trials.
  const run = await runEpochs({
    epochs: opts.epochs,
    totalSteps,
    lr: opts.lr,
    warmupSteps: Math.round((opts.warmupRatio ?? 0.06) * totalSteps),
    patience: opts.patience,
    signal: opts.signal,
    checkpoints: opts.checkpoints,
    batches: (epoch) => plan.batcher.batches(epoch),
    step: async (b, lr, step) => {
      const p = await programs.use(b.seq);
      const feeds = { ...batchFeeds(b, p.inputNames, trainRows), ...lossFeeds(b, task.regression) };
      const { loss } = await p.train.step(feeds, lr);
      guard.stepLoss(step, loss);
      return loss;
    },
    evaluate: (step) => {
      guard.weights(step, programs.params().data as Float32Array);
      return predict(opts.eval, step);
    },
    // A tensor handed out by getState is never updated in place, so a kept one stays intact.
    snapshot: () => programs.params(),
    onEvent: opts.onEvent,
    stop: opts.stop,
  }).catch(async (e: unknown) => {
    await release();
    throw e;
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  programs.setParams(run.bestWeights);
  return {
    best: run.best,
    history: run.history,
    steps: run.steps,
    trainSeconds,
    params: programs.readParams(),
    trainableParams,
    ...(run.stopped ? { stopped: run.stopped } : {}),
    evaluate: (examples) => predict(examples, run.steps),
    release,
  };
}
