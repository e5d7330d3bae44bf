/**
 * The epoch loop: steps through each epoch's batches (learning rate from the warm-up / decay
 * schedule) up to `totalSteps`, evaluates after every epoch, keeps the best epoch's weights (the
 * first epoch whose metric beats every earlier one; a number beats NaN) and stops early after
 * `patience` epochs without improvement. The model itself is behind callbacks, so the loop is
 * tested without one.
 */
import type { Batch } from '../data/batching.js';
import type { MetricResult } from '../data/metrics.js';
import { TrainingError } from './errors.js';
import { linearWarmupDecay } from './schedule.js';

export interface EpochRecord {
  epoch: number;
  /** Mean training loss of the epoch's steps. */
  loss: number;
  metric: number;
  metrics: MetricResult['metrics'];
}

/** What the loop reports (a subset of the trainer's `TrainEvent`). */
export type EpochEvent =
  | { kind: 'step'; step: number; totalSteps: number; epoch: number; loss: number; lr: number }
  | { kind: 'eval'; epoch: number; metric: number; metrics: MetricResult['metrics']; best: boolean; seconds: number };

export interface EpochLoop<W> {
  epochs: number;
  totalSteps: number;
  /** Peak learning rate and warm-up steps of `linearWarmupDecay`. */
  lr: number;
  warmupSteps: number;
  patience?: number | undefined;
  signal?: AbortSignal | undefined;
  /** The batches of epoch `epoch` (0-based). */
  batches(epoch: number): Iterable<Batch>;
  /** One optimiser step (the `step`-th, 1-based) on `b`; returns its loss. */
  step(b: Batch, lr: number, step: number): Promise<number>;
  /** Scores the current weights after `step` steps. */
  evaluate(step: number): Promise<MetricResult>;
  /** The current weights, kept when an epoch is the best so far. */
  snapshot(): W;
  onEvent?: ((e: EpochEvent) => void) | undefined;
}

export interface EpochLoopResult<W> {
  history: EpochRecord[];
  best: EpochRecord;
  bestWeights: W;
  steps: number;
}

const beats = (rec: EpochRecord, best: EpochRecord | undefined) =>
  best === undefined || rec.metric > best.metric || (Number.isNaN(best.metric) && !Number.isNaN(rec.metric));

export async function runEpochs<W>(o: EpochLoop<W>): Promise<EpochLoopResult<W>> {
  const history: EpochRecord[] = [];
  let best: { rec: EpochRecord; weights: W } | undefined;
  let sinceBest = 0;
  let step = 0;
  for (let epoch = 1; epoch <= o.epochs && step < o.totalSteps; epoch++) {
    let lossSum = 0;
    let lossN = 0;
    for (const b of o.batches(epoch - 1)) {
      if (step >= o.totalSteps) break;
      if (o.signal?.aborted) throw new TrainingError('training interrupted');
      step++;
      const lr = linearWarmupDecay(step, o.lr, o.warmupSteps, o.totalSteps);
      const loss = await o.step(b, lr, step);
      lossSum += loss;
      lossN++;
      o.onEvent?.({ kind: 'step', step, totalSteps: o.totalSteps, epoch, loss, lr });
    }
    const te = performance.now();
    const r = await o.evaluate(step);
    const rec: EpochRecord = { epoch, loss: lossSum / Math.max(1, lossN), metric: r.main, metrics: r.metrics };
    history.push(rec);
    const improved = beats(rec, best?.rec);
    if (improved) best = { rec, weights: o.snapshot() };
    sinceBest = improved ? 0 : sinceBest + 1;
    const seconds = (performance.now() - te) / 1000;
    o.onEvent?.({ kind: 'eval', epoch, metric: rec.metric, metrics: rec.metrics, best: improved, seconds });
    if (o.patience !== undefined && sinceBest >= o.patience) break;
  }
  if (!best) throw new TrainingError(`nothing to train: epochs ${o.epochs}, steps ${o.totalSteps}`);
  return { history, best: best.rec, bestWeights: best.weights, steps: step };
}
