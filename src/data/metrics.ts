/**
 * Evaluation metrics, in float64. Classification metrics take predicted and true class indices
 * (length n each); regression metrics take predicted and true values (length n each).
 * Degenerate inputs follow scikit-learn where it defines a value (F1 = 0 with no true or
 * predicted positives; MCC = 0 when a row or column of the confusion matrix is all zero) and
 * give 0 where scipy would give NaN (correlation with a constant vector), so that a search
 * objective is always finite.
 */
import { DataError } from './errors.js';
import type { MetricName, TaskInfo } from './tasks/types.js';

type Num = ArrayLike<number>;

function checkLengths(pred: Num, gold: Num, name: string): number {
  if (pred.length !== gold.length)
    throw new DataError(
      `${name}: predictions (${pred.length}) and labels (${gold.length}) differ in length; fix: pass one prediction per example`,
    );
  return pred.length;
}

/** Share of exact matches; 0 for n = 0. */
export function accuracy(pred: Num, gold: Num): number {
  const n = checkLengths(pred, gold, 'accuracy');
  if (n === 0) return 0;
  let ok = 0;
  for (let i = 0; i < n; i++) if (pred[i] === gold[i]) ok++;
  return ok / n;
}

/** F1 of class `positive` against the rest: 2 TP / (2 TP + FP + FN); 0 when TP = 0. */
export function f1Binary(pred: Num, gold: Num, positive = 1): number {
  const n = checkLengths(pred, gold, 'f1');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    const p = pred[i] === positive;
    const g = gold[i] === positive;
    if (p && g) tp++;
    else if (p) fp++;
    else if (g) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/**
 * Unweighted mean of per-class F1 over the classes present in `gold` or `pred` (scikit-learn's
 * `average='macro'` default label set).
 */
export function macroF1(pred: Num, gold: Num): number {
  const n = checkLengths(pred, gold, 'macro_f1');
  const classes = new Set<number>();
  for (let i = 0; i < n; i++) {
    classes.add(pred[i]);
    classes.add(gold[i]);
  }
  if (classes.size === 0) return 0;
  let sum = 0;
  for (const c of classes) sum += f1Binary(pred, gold, c);
  return sum / classes.size;
}

/**
 * Matthews correlation for any number of classes (Gorodkin's R_K, as scikit-learn computes it):
 * (c s - sum_k p_k t_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)), with c correct, s samples,
 * p_k predicted and t_k true counts of class k; 0 when the denominator is 0.
 */
export function matthewsCorrelation(pred: Num, gold: Num): number {
  const n = checkLengths(pred, gold, 'mcc');
  const p = new Map<number, number>();
  const t = new Map<number, number>();
  let c = 0;
  for (let i = 0; i < n; i++) {
    p.set(pred[i], (p.get(pred[i]) ?? 0) + 1);
    t.set(gold[i], (t.get(gold[i]) ?? 0) + 1);
    if (pred[i] === gold[i]) c++;
  }
  let pt = 0;
  for (const [k, pk] of p) pt += pk * (t.get(k) ?? 0);
  let pp = 0;
  for (const pk of p.values()) pp += pk * pk;
  let tt = 0;
  for (const tk of t.values()) tt += tk * tk;
  const s = n;
  const den = Math.sqrt((s * s - pp) * (s * s - tt));
  return den === 0 ? 0 : (c * s - pt) / den;
}

/** Pearson correlation; 0 when either vector is constant (or n < 2). */
export function pearson(x: Num, y: Num): number {
  const n = checkLengths(x, y, 'pearson');
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  // NOTE: scipy returns NaN for a constant input; 0 keeps search objectives finite.
  if (sxx === 0 || syy === 0) return 0;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/** Ranks 1..n with ties given their average rank (as scipy.stats.rankdata 'average'). */
export function averageRanks(x: Num): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
    const r = (i + j) / 2 + 1; // mean of ranks i+1..j+1
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}

/** Spearman correlation: Pearson of the average ranks. */
export function spearman(x: Num, y: Num): number {
  checkLengths(x, y, 'spearman');
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * Index of the largest of each row of `logits` (n x k, row-major); first index on ties.
 */
export function argmaxRows(logits: ArrayLike<number>, n: number, k: number): Int32Array {
  if (logits.length !== n * k)
    throw new DataError(
      `argmaxRows: logits have ${logits.length} values, expected ${n} x ${k}; fix: pass the model's [batch, numLabels] output`,
    );
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bv = logits[i * k];
    for (let j = 1; j < k; j++) {
      const v = logits[i * k + j];
      if (v > bv) {
        bv = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

/** The labels of examples as a Float64Array (class indices or regression targets), n. */
export function labelsOf(examples: readonly { label: number }[]): Float64Array {
  return Float64Array.from(examples, (e) => e.label);
}

export interface MetricResult {
  /** Every metric the task reports. */
  metrics: Partial<Record<MetricName, number>>;
  /** The task's main metric (what the search optimises). */
  main: number;
  mainMetric: MetricName;
}

/**
 * Compute a task's metrics. Classification: `predictions` are class indices; regression: values.
 */
export function computeMetrics(
  info: Pick<TaskInfo, 'metrics' | 'mainMetric' | 'positiveLabel'>,
  predictions: Num,
  labels: Num,
): MetricResult {
  const out: Partial<Record<MetricName, number>> = {};
  const value = (m: MetricName): number => {
    switch (m) {
      case 'accuracy':
        return accuracy(predictions, labels);
      case 'f1':
        return f1Binary(predictions, labels, info.positiveLabel);
      case 'macro_f1':
        return macroF1(predictions, labels);
      case 'mcc':
        return matthewsCorrelation(predictions, labels);
      case 'pearson':
        return pearson(predictions, labels);
      case 'spearman':
        return spearman(predictions, labels);
      case 'acc_and_f1':
        return (accuracy(predictions, labels) + f1Binary(predictions, labels, info.positiveLabel)) / 2;
      case 'pearson_spearman':
        return (pearson(predictions, labels) + spearman(predictions, labels)) / 2;
    }
  };
  for (const m of new Set([...info.metrics, info.mainMetric])) out[m] = value(m);
  return { metrics: out, main: out[info.mainMetric]!, mainMetric: info.mainMetric };
}

/** The metrics a task reports (its `metrics` and its main metric): the choices of `--metric`. */
export function taskMetrics(info: Pick<TaskInfo, 'metrics' | 'mainMetric'>): MetricName[] {
  return [...new Set([info.mainMetric, ...info.metrics])];
}

/**
 * `info` with `metric` as its main metric (the search objective and the model-selection metric);
 * `info` itself when `metric` is undefined. A metric the task does not report is a DataError
 * naming `flag` and listing the task's metrics.
 */
export function selectMetric<T extends Pick<TaskInfo, 'name' | 'metrics' | 'mainMetric'>>(
  info: T,
  metric: string | undefined,
  flag = '--metric',
): T {
  if (metric === undefined || metric === info.mainMetric) return info;
  const known = taskMetrics(info);
  if (!(known as string[]).includes(metric))
    throw new DataError(
      `${flag} ${metric}: task ${info.name} reports ${known.join(', ')}; choose one of them (default ${info.mainMetric})`,
    );
  return { ...info, mainMetric: metric as MetricName };
}
