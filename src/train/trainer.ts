/**
 * The trainer: fine-tunes PEFT modules + a task head on a backbone with AdamW, a linear warm-up /
 * decay schedule, evaluation every epoch, early stopping with patience, and the best weights kept.
 *
 * Sequence lengths: batches are length-bucketed and padded to a multiple of `seqBucket` tokens;
 * one training program (and one eval program) is compiled per padded length actually seen, and
 * they share a single AdamW run by handing the param/moment tensors to each other
 * (TrainingProgram.getState/setState). Short inputs thus cost short compute.
 */
import type { Value } from '../graph/ir.js';
import * as ops from '../graph/ops/index.js';
import type { EncoderHooks } from '../models/backbone.js';
import { Batcher, tokenizeExamples, type Batch } from '../data/batching.js';
import { computeMetrics, labelsOf, type MetricResult } from '../data/metrics.js';
import { scatterPredictions, tokenFeeds } from './feeds.js';
import type { Example, TaskInfo } from '../data/tasks/types.js';
import { compileTraining, type TrainingProgram } from '../runtime/training.js';
import type { EvalProgram } from '../runtime/eval.js';
import type { NamedTensor } from '../runtime/params.js';
import { tensor, type ort } from '../runtime/session.js';
import type { Backbone } from '../models/backbone.js';
import { TrainingError } from './errors.js';
import { batchLoss, DivergenceGuard, naturalLossScale } from './divergence.js';
import { createLayerCache, DEFAULT_CACHE_BYTES } from './layer-cache.js';
import type { LayerCache } from '../models/backbone.js';
import type { TokenizedSet } from '../data/batching.js';
import { linearWarmupDecay } from './schedule.js';

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
}

export type TrainEvent =
  | { kind: 'start'; totalSteps: number; epochs: number; trainExamples: number }
  | { kind: 'step'; step: number; totalSteps: number; epoch: number; loss: number; lr: number }
  | { kind: 'eval'; epoch: number; metric: number; metrics: MetricResult['metrics']; best: boolean; seconds: number }
  | { kind: 'cache'; layer: number; examples: number; bytes: number; seconds: number; skipped?: string };

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
  onEvent?: (e: TrainEvent) => void;
  signal?: AbortSignal;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  metric: number;
  metrics: MetricResult['metrics'];
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
  /** Scores other examples (e.g. the official dev set) with the best weights. */
  evaluate(examples: readonly Example[]): Promise<MetricResult>;
  release(): Promise<void>;
}

interface Shaped {
  train: TrainingProgram;
  eval?: EvalProgram;
  inputNames: string[];
  logits: Value;
}

const isNoDecay = (name: string) => name.endsWith('.bias') || /LayerNorm|layer_norm|\.ln\b|norm\./i.test(name);

export async function trainClassifier(opts: TrainerOptions): Promise<TrainOutcome> {
  const { backbone, task } = opts;
  if (opts.train.length === 0) throw new TrainingError('no training examples; check --data and the task name');
  if (opts.eval.length === 0)
    throw new TrainingError('no evaluation examples; the task needs a validation or dev split');
  const maxLength = Math.min(opts.maxLength, backbone.maxLength);
  const seqBucket = opts.seqBucket ?? 16;
  const numLabels = task.regression ? 1 : task.numLabels;
  const batcher = new Batcher(opts.train, backbone.tokenizer, {
    batchSize: opts.batchSize,
    maxLength,
    padToMultipleOf: seqBucket,
    seed: opts.seed,
    regression: task.regression,
  });
  // Frozen-prefix cache: the rows of every example entering layer k, computed once.
  let cache: LayerCache | undefined;
  let fromLayer = 0;
  const rowsOf = new WeakMap<readonly Example[], Float32Array[]>();
  const idsOf = (t: TokenizedSet) =>
    Array.from({ length: t.n }, (_, i) => Array.from(t.ids.subarray(t.offsets[i]!, t.offsets[i + 1]!)));
  if ((opts.cacheLayer ?? 0) > 0) {
    const k = opts.cacheLayer!;
    const tc = performance.now();
    const candidate = createLayerCache(backbone, k, opts.threads);
    const evalTokens = tokenizeExamples(opts.eval, backbone.tokenizer, maxLength);
    const bytes = (batcher.tokens.ids.length + evalTokens.ids.length) * candidate.width * 4;
    const limit = opts.cacheMaxBytes ?? DEFAULT_CACHE_BYTES;
    if (bytes > limit) {
      await candidate.release();
      opts.onEvent?.({
        kind: 'cache',
        layer: k,
        examples: 0,
        bytes,
        seconds: 0,
        skipped: `the cache would take ${(bytes / 1e9).toFixed(1)} GB (limit ${(limit / 1e9).toFixed(1)} GB)`,
      });
    } else {
      cache = candidate;
      fromLayer = k;
      rowsOf.set(opts.train, await cache.compute(idsOf(batcher.tokens)));
      rowsOf.set(opts.eval, await cache.compute(idsOf(evalTokens)));
      opts.onEvent?.({
        kind: 'cache',
        layer: k,
        examples: opts.train.length + opts.eval.length,
        bytes,
        seconds: (performance.now() - tc) / 1000,
      });
    }
  }
  const perEpoch = batcher.numBatches;
  const totalSteps = Math.min(opts.maxSteps ?? Infinity, opts.epochs * perEpoch);
  if (!(totalSteps > 0)) throw new TrainingError(`nothing to train: epochs ${opts.epochs}, max steps ${opts.maxSteps}`);
  const warmup = Math.round((opts.warmupRatio ?? 0.06) * totalSteps);
  const threads = opts.threads;

  const programs = new Map<number, Shaped>();
  let active: Shaped | undefined;
  let trainableParams = 0;
  const programFor = async (seq: number): Promise<Shaped> => {
    let p = programs.get(seq);
    if (!p) {
      const built = backbone.buildClassifier({
        seqLen: seq,
        numLabels,
        hooks: opts.hooks?.(),
        seed: opts.seed,
        dropout: true,
        headWeights: opts.headWeights,
        fullFineTune: opts.fullFineTune,
        ...(fromLayer > 0 ? { fromLayer } : {}),
      });
      const g = built.graph;
      let loss: Value;
      if (task.regression) {
        // NOTE: sum of squares times 1/batch fed at run time: ReduceMean over the symbolic batch
        // dim has no gradient rule in the engine.
        const labels = g.input('labels', 'float32', ['batch']);
        const invB = g.input('inv_batch', 'float32', []);
        const d = ops.sub(ops.reshape(built.logits, [-1]), labels);
        loss = ops.mul(ops.reduceSum(ops.mul(d, d), [0], false), invB);
      } else {
        const labels = g.input('labels', 'int64', ['batch']);
        loss = ops.softmaxCrossEntropy(built.logits, labels, 'mean');
      }
      const train = await compileTraining({
        loss,
        params: g.params,
        optimizer: { weightDecay: opts.weightDecay ?? 0.01, noDecay: isNoDecay, maxGradNorm: opts.maxGradNorm ?? 1.0 },
        ...(threads !== undefined ? { threads } : {}),
      });
      trainableParams = train.store.size;
      p = { train, inputNames: built.inputNames, logits: built.logits };
      programs.set(seq, p);
    }
    return p;
  };
  const use = async (seq: number): Promise<Shaped> => {
    const p = await programFor(seq);
    if (active && active !== p) p.train.setState(active.train.getState());
    active = p;
    return p;
  };

  const feedsOf = (
    b: Batch,
    names: readonly string[],
    withLabels: boolean,
    rows?: readonly Float32Array[],
  ): Record<string, ort.Tensor> => {
    const f: Record<string, ort.Tensor> = {};
    for (const n of names) {
      if (n === 'hidden_in') {
        const w = cache!.width;
        const data = new Float32Array(b.batch * b.seq * w);
        b.indices.forEach((ex, r) => {
          data.set(rows![ex]!, r * b.seq * w);
        });
        f[n] = tensor('float32', data, [b.batch, b.seq, w]);
        continue;
      }
      Object.assign(f, tokenFeeds(b, [n]));
    }
    if (withLabels) {
      f.labels =
        b.labels instanceof Float32Array
          ? tensor('float32', b.labels, [b.batch])
          : tensor('int64', b.labels, [b.batch]);
      if (task.regression) f.inv_batch = tensor('float32', Float32Array.of(1 / b.batch), []);
    }
    return f;
  };

  const guard = new DivergenceGuard(naturalLossScale(task.regression, numLabels, labelsOf(opts.train)), opts.lr);
  let step = 0;
  const evalBatchSize = opts.evalBatchSize ?? Math.max(opts.batchSize, 64);
  const predict = async (examples: readonly Example[]): Promise<MetricResult> => {
    const eb = new Batcher(examples, backbone.tokenizer, {
      batchSize: evalBatchSize,
      maxLength,
      padToMultipleOf: seqBucket,
      shuffle: false,
      regression: task.regression,
    });
    const state = active!.train.getState();
    let rows = cache ? rowsOf.get(examples) : undefined;
    if (cache && !rows) {
      rows = await cache.compute(idsOf(eb.tokens));
      rowsOf.set(examples, rows);
    }
    const preds = new Float64Array(examples.length);
    let lossSum = 0;
    let lossRows = 0;
    for (const b of eb.batches()) {
      const p = await programFor(b.seq);
      p.train.setState(state);
      p.eval ??= await p.train.evalProgram({ logits: p.logits });
      const out = await p.eval.run(feedsOf(b, p.inputNames, false, rows));
      const logits = out.logits!.data as Float32Array;
      guard.outputs(step, logits);
      const l = batchLoss(logits, b.labels, numLabels, task.regression);
      lossSum += l.sum;
      lossRows += l.rows;
      scatterPredictions(preds, b, logits, numLabels, task.regression);
    }
    if (lossRows > 0) guard.evalLoss(step, lossSum / lossRows);
    active!.train.setState(state);
    return computeMetrics(task, preds, labelsOf(examples));
  };

  opts.onEvent?.({ kind: 'start', totalSteps, epochs: opts.epochs, trainExamples: opts.train.length });
  const t0 = performance.now();
  const history: EpochRecord[] = [];
  let best: EpochRecord | undefined;
  let bestParams: ort.Tensor | undefined;
  let sinceBest = 0;
  for (let epoch = 1; epoch <= opts.epochs && step < totalSteps; epoch++) {
    let lossSum = 0;
    let lossN = 0;
    for (const b of batcher.batches(epoch - 1)) {
      if (step >= totalSteps) break;
      if (opts.signal?.aborted) throw new TrainingError('training interrupted');
      const p = await use(b.seq);
      step++;
      const lr = linearWarmupDecay(step, opts.lr, warmup, totalSteps);
      const { loss } = await p.train.step(feedsOf(b, p.inputNames, true, rowsOf.get(opts.train)), lr);
      guard.stepLoss(step, loss);
      lossSum += loss;
      lossN++;
      opts.onEvent?.({ kind: 'step', step, totalSteps, epoch, loss, lr });
    }
    const te = performance.now();
    guard.weights(step, active!.train.getState().params.data as Float32Array);
    const r = await predict(opts.eval);
    const rec: EpochRecord = { epoch, loss: lossSum / Math.max(1, lossN), metric: r.main, metrics: r.metrics };
    history.push(rec);
    const improved =
      best === undefined || rec.metric > best.metric || (Number.isNaN(best.metric) && !Number.isNaN(rec.metric));
    if (improved) {
      best = rec;
      bestParams = active!.train.getState().params;
      sinceBest = 0;
    } else sinceBest++;
    opts.onEvent?.({
      kind: 'eval',
      epoch,
      metric: rec.metric,
      metrics: rec.metrics,
      best: improved,
      seconds: (performance.now() - te) / 1000,
    });
    if (opts.patience !== undefined && sinceBest >= opts.patience) break;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  // Restore the best weights (ORT returns fresh tensors each step, so the kept one is intact).
  const final = active!.train.getState();
  active!.train.setState({ ...final, params: bestParams! });
  const params = active!.train.readParams();
  return {
    best: best!,
    history,
    steps: step,
    trainSeconds,
    params,
    trainableParams,
    evaluate: predict,
    async release() {
      for (const p of programs.values()) {
        await p.train.release();
        await p.eval?.release();
      }
      await cache?.release();
    },
  };
}
