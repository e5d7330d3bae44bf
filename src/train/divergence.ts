/**
 * Divergence: when a run is no longer training but blowing up, it must end as a `DivergedError`
 * (a FAILED trial naming the learning rate), never as a scored result. The rule (docs/training.md):
 *
 * - any training-step loss, weight or evaluation output that is NaN or infinite;
 * - a finite loss above `DIVERGENCE_FACTOR` (100) x the run's loss scale, where the scale is the
 *   larger of the task's natural scale (classification: ln(numLabels), the cross-entropy of a
 *   uniform guess; regression: the mean squared label, the error of predicting 0 as a fresh head
 *   does) and the first step's loss (the untrained model's, computed before any update). This is
 *   checked on every step's loss and on the validation loss of every evaluation, so a run that
 *   exploded on its last update (whose loss no step ever reports) is caught by the evaluation.
 *
 * NOTE: 100 x ln 2 = 69 nats of mean cross-entropy means confident wrong answers with logit margins
 * in the hundreds; ordinary over-fitting stays far below it, a learning rate 1e4 x too large does not.
 */
import { DivergedError } from './errors.js';

export const DIVERGENCE_FACTOR = 100;

/** The task's natural loss scale: ln(numLabels), or the mean squared label for regression. */
export function naturalLossScale(regression: boolean, numLabels: number, labels: ArrayLike<number>): number {
  if (!regression) return Math.log(Math.max(2, numLabels));
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += labels[i]! * labels[i]!;
  return labels.length > 0 ? s / labels.length : 0;
}

/**
 * Summed loss of one batch's outputs `logits` [rows, numLabels] against `labels` (class indices,
 * or targets for regression): softmax cross-entropy or squared error, as the training loss. Rows
 * whose class label is outside [0, numLabels) (unlabelled) are skipped. NaN/inf logits give a
 * non-finite sum.
 */
export function batchLoss(
  logits: ArrayLike<number>,
  labels: ArrayLike<number | bigint>,
  numLabels: number,
  regression: boolean,
): { sum: number; rows: number } {
  let sum = 0;
  let rows = 0;
  for (let r = 0; r < labels.length; r++) {
    const y = Number(labels[r]!);
    if (regression) {
      const d = logits[r]! - y;
      sum += d * d;
      rows++;
      continue;
    }
    if (!(y >= 0 && y < numLabels)) continue;
    let max = -Infinity;
    for (let j = 0; j < numLabels; j++) max = Math.max(max, logits[r * numLabels + j]!);
    let z = 0;
    for (let j = 0; j < numLabels; j++) z += Math.exp(logits[r * numLabels + j]! - max);
    sum += max + Math.log(z) - logits[r * numLabels + y]!;
    rows++;
  }
  return { sum, rows };
}

function allFinite(xs: ArrayLike<number>): boolean {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i]!)) return false;
  return true;
}

const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(3)).toString() : String(x));

/** Applies the rule above to one run; every check throws `DivergedError` naming what blew up. */
export class DivergenceGuard {
  private first: number | undefined;

  constructor(
    /** `naturalLossScale` of the task and training labels. */
    private readonly natural: number,
    private readonly lr: number,
  ) {}

  /** The loss above which the run counts as diverged. */
  get limit(): number {
    return DIVERGENCE_FACTOR * Math.max(this.natural, this.first ?? 0);
  }

  private fail(step: number, detail: string): never {
    throw new DivergedError(step, detail, this.lr);
  }

  private checkLoss(step: number, loss: number, what: string): void {
    if (!Number.isFinite(loss)) this.fail(step, `${what} is ${loss}`);
    if (loss > this.limit)
      this.fail(
        step,
        `${what} ${fmt(loss)} exceeds ${DIVERGENCE_FACTOR} x the starting loss scale ${fmt(this.limit / DIVERGENCE_FACTOR)}`,
      );
  }

  /** The loss a training step reported (computed before that step's update). */
  stepLoss(step: number, loss: number): void {
    this.first ??= Number.isFinite(loss) ? loss : undefined;
    this.checkLoss(step, loss, `the loss at step ${step}`);
  }

  /** The trainable weights after `step` updates (one flat vector). */
  weights(step: number, params: ArrayLike<number>): void {
    if (!allFinite(params)) this.fail(step, `the weights are not finite after step ${step}`);
  }

  /** One batch of evaluation outputs: non-finite logits are divergence. */
  outputs(step: number, logits: ArrayLike<number>): void {
    if (!allFinite(logits)) this.fail(step, `the model's outputs are not finite after step ${step}`);
  }

  /** The mean loss of an evaluation after `step` updates. */
  evalLoss(step: number, loss: number): void {
    this.checkLoss(step, loss, `the evaluation loss after step ${step}`);
  }
}
