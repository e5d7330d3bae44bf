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
  | { kind: 'eval'; epoch: number; metric: number; metrics: MetricResult['metrics']; best: boolean; seconds: number }
  | CheckpointEvent;

/**
 * A learning-curve point: the eval score once `examples` training examples have been seen (the
 * first step boundary at or past it: `examplesSeen`). `trainSeconds` is the time spent in training
 * steps so far (evaluations excluded); `seconds` that of this evaluation.
 */
export interface CheckpointEvent {
  kind: 'checkpoint';
  examples: number;
  examplesSeen: number;
  step: number;
  metric: number;
  metrics: MetricResult['metrics'];
  trainSeconds: number;
  seconds: number;
}

export interface EpochLoop<W> {
  epochs: number;
  totalSteps: number;
  /** Peak learning rate and warm-up steps of `linearWarmupDecay`. */
  lr: number;
  warmupSteps: number;
  patience?: number | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Examples seen (ascending) after which the weights are also scored, for learning curves and
   * pruning. A checkpoint reached on an epoch's last step reuses that epoch's evaluation.
   */
  checkpoints?: readonly number[] | undefined;
  /** The batches of epoch `epoch` (0-based). */
  batches(epoch: number): Iterable<Batch>;
  /** One optimiser step (the `step`-th, 1-based) on `b`; returns its loss. */
  step(b: Batch, lr: number, step: number): Promise<number>;
  /** Scores the current weights after `step` steps. */
  evaluate(step: number): Promise<MetricResult>;
  /** The current weights, kept when an epoch is the best so far. */
  snapshot(): W;
  onEvent?: ((e: EpochEvent) => void) | undefined;
  /**
   * Asked before every step (so right after each checkpoint is scored): true stops training there
   * (a pruner's verdict). The partial epoch becomes the last epoch record, scored by that
   * checkpoint's evaluation when one was just made (else by a new one), and the best weights are
   * kept as usual.
   */
  stop?: (() => boolean) | undefined;
}

export interface EpochLoopResult<W> {
  history: EpochRecord[];
  best: EpochRecord;
  bestWeights: W;
  steps: number;
  /** Set when `stop` ended training early: the step and examples seen at that point. */
  stopped?: { step: number; examplesSeen: number };
}

const beats = (rec: EpochRecord, best: EpochRecord | undefined) =>
  best === undefined || rec.metric > best.metric || (Number.isNaN(best.metric) && !Number.isNaN(rec.metric));

/** Tracks examples seen against the checkpoints and emits their events. */
class Checkpoints {
  private readonly at: number[];
  private next = 0;
  private seen = 0;
  trainSeconds = 0;
  /** Checkpoints reached and not yet scored. */
  readonly pending: number[] = [];

  constructor(at: readonly number[] | undefined) {
    this.at = [...(at ?? [])].sort((a, b) => a - b);
    if (this.at.some((x) => !Number.isFinite(x) || x <= 0))
      throw new TrainingError(`checkpoints must be positive numbers of examples, got [${this.at.join(', ')}]`);
  }

  stepped(rows: number, seconds: number): void {
    this.seen += rows;
    this.trainSeconds += seconds;
    while (this.next < this.at.length && this.seen >= this.at[this.next]!) this.pending.push(this.at[this.next++]!);
  }

  emit(r: MetricResult, step: number, seconds: number, onEvent: EpochLoop<unknown>['onEvent']): void {
    for (const examples of this.pending) {
      const { seen: examplesSeen, trainSeconds } = this;
      onEvent?.({
        kind: 'checkpoint',
        examples,
        examplesSeen,
        step,
        metric: r.main,
        metrics: r.metrics,
        trainSeconds,
        seconds,
      });
    }
    this.pending.length = 0;
  }

  get examplesSeen(): number {
    return this.seen;
  }
}

export async function runEpochs<W>(o: EpochLoop<W>): Promise<EpochLoopResult<W>> {
  const history: EpochRecord[] = [];
  let best: { rec: EpochRecord; weights: W } | undefined;
  let sinceBest = 0;
  let step = 0;
  let stopped: EpochLoopResult<W>['stopped'];
  const cp = new Checkpoints(o.checkpoints);
  for (let epoch = 1; epoch <= o.epochs && step < o.totalSteps && !stopped; epoch++) {
    let lossSum = 0;
    let lossN = 0;
    /** The evaluation made at the current step by a checkpoint, reused if training stops here. */
    let scored: MetricResult | undefined;
    for (const b of o.batches(epoch - 1)) {
      if (step >= o.totalSteps) break;
      if (o.signal?.aborted) throw new TrainingError('training interrupted');
      if (cp.pending.length > 0) {
        // Reached mid-epoch: score before the next step changes the weights.
        const tc = performance.now();
        scored = await o.evaluate(step);
        cp.emit(scored, step, (performance.now() - tc) / 1000, o.onEvent);
      }
      if (step > 0 && o.stop?.()) {
        stopped = { step, examplesSeen: cp.examplesSeen };
        break;
      }
      step++;
      scored = undefined;
      const lr = linearWarmupDecay(step, o.lr, o.warmupSteps, o.totalSteps);
      const ts = performance.now();
      const loss = await o.step(b, lr, step);
      cp.stepped(b.batch, (performance.now() - ts) / 1000);
      lossSum += loss;
      lossN++;
      o.onEvent?.({ kind: 'step', step, totalSteps: o.totalSteps, epoch, loss, lr });
    }
    const te = performance.now();
    const r = scored ?? (await o.evaluate(step));
    if (!scored) cp.emit(r, step, (performance.now() - te) / 1000, o.onEvent);
    const rec: EpochRecord = { epoch, loss: lossSum / Math.max(1, lossN), metric: r.main, metrics: r.metrics };
    history.push(rec);
    const improved = beats(rec, best?.rec);
    if (improved) best = { rec, weights: o.snapshot() };
    sinceBest = improved ? 0 : sinceBest + 1;
    const seconds = (performance.now() - te) / 1000;
    o.onEvent?.({ kind: 'eval', epoch, metric: rec.metric, metrics: rec.metrics, best: improved, seconds });
    if (o.patience !== undefined && sinceBest >= o.patience) break;
    // Asked once more at an epoch's end (the last checkpoint often falls there).
    if (!stopped && step < o.totalSteps && epoch < o.epochs && o.stop?.())
      stopped = { step, examplesSeen: cp.examplesSeen };
  }
  if (!best) throw new TrainingError(`nothing to train: epochs ${o.epochs}, steps ${o.totalSteps}`);
  return { history, best: best.rec, bestWeights: best.weights, steps: step, ...(stopped ? { stopped } : {}) };
}
