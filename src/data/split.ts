/**
 * Seeded, stratified selection: carving a validation split out of train, and subsampling train
 * for low-fidelity trials. Selected and remaining examples both keep their original file order.
 */
import { DataError } from './errors.js';
import { Rng } from '../core/random.js';
import type { Example, TaskData } from './tasks/types.js';

export interface SizeSpec {
  /** Fraction of the examples in (0, 1]. */
  fraction?: number;
  /** Exact number of examples; wins over `fraction` when both are given. */
  count?: number;
}

export interface StratifyOptions {
  seed?: number;
  /**
   * 'class' (classification: each label keeps its share), 'quantile' (regression: 10 equal-count
   * bins of the label keep their share), or 'none'. Default: 'class'.
   */
  stratify?: 'class' | 'quantile' | 'none';
}

/** Resolve a SizeSpec against n items; `field` names the option in errors. */
export function resolveSize(size: SizeSpec, n: number, field: string): number {
  if (size.count !== undefined) {
    if (!Number.isInteger(size.count) || size.count < 0)
      throw new DataError(
        `${field}.count must be a non-negative integer, got ${size.count}; fix: pass e.g. { count: 1000 }`,
      );
    return Math.min(size.count, n);
  }
  if (size.fraction !== undefined) {
    if (!(size.fraction > 0 && size.fraction <= 1))
      throw new DataError(
        `${field}.fraction must be in (0, 1], got ${size.fraction}; fix: pass e.g. { fraction: 0.1 }`,
      );
    return Math.round(size.fraction * n);
  }
  throw new DataError(`${field} needs a count or a fraction; fix: pass { count: N } or { fraction: F }`);
}

/**
 * Choose k of n items, stratified by `labels` (length n). Each stratum g of size n_g gets
 * floor(k n_g / n) items plus one more for the strata with the largest remainders (ties: the
 * stratum seen first), then its items are drawn by a seeded shuffle.
 * Returns the chosen indices sorted ascending.
 */
export function stratifiedSelect(labels: ArrayLike<number>, k: number, options: StratifyOptions = {}): Int32Array {
  const n = labels.length;
  const mode = options.stratify ?? 'class';
  const rng = new Rng(options.seed ?? 0);
  if (k >= n) return Int32Array.from({ length: n }, (_, i) => i);
  if (k <= 0) return new Int32Array(0);
  const strata = strataOf(labels, mode);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = strata[i];
    let list = groups.get(g);
    if (list === undefined) groups.set(g, (list = []));
    list.push(i);
  }
  const keys = [...groups.keys()];
  const quota = keys.map((g) => Math.floor((k * groups.get(g)!.length) / n));
  let left = k - quota.reduce((a, b) => a + b, 0);
  const byRemainder = keys
    .map((g, j) => ({ j, rem: (k * groups.get(g)!.length) / n - quota[j] }))
    .sort((a, b) => b.rem - a.rem || a.j - b.j);
  for (const { j } of byRemainder) {
    if (left === 0) break;
    quota[j]++;
    left--;
  }
  const chosen: number[] = [];
  keys.forEach((g, j) => {
    const members = groups.get(g)!;
    const p = rng.permutation(members.length);
    for (let t = 0; t < quota[j]; t++) chosen.push(members[p[t]]);
  });
  chosen.sort((a, b) => a - b);
  return Int32Array.from(chosen);
}

function strataOf(labels: ArrayLike<number>, mode: 'class' | 'quantile' | 'none'): Int32Array {
  const n = labels.length;
  const out = new Int32Array(n);
  if (mode === 'class') {
    for (let i = 0; i < n; i++) out[i] = labels[i];
  } else if (mode === 'quantile') {
    const bins = 10;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => labels[a] - labels[b] || a - b);
    order.forEach((idx, rank) => {
      out[idx] = Math.floor((rank * bins) / n);
    });
  }
  return out;
}

/** Split examples into (chosen, rest) by the chosen indices. */
function partition(examples: readonly Example[], chosen: Int32Array): { chosen: Example[]; rest: Example[] } {
  const mark = new Uint8Array(examples.length);
  for (const i of chosen) mark[i] = 1;
  const a: Example[] = [];
  const b: Example[] = [];
  examples.forEach((e, i) => {
    (mark[i] ? a : b).push(e);
  });
  return { chosen: a, rest: b };
}

export interface CarveOptions extends SizeSpec {
  seed?: number;
  /** Upper bound on the carved size when it comes from `fraction` (default 1000). */
  maxCount?: number;
  regression?: boolean;
}

/** Default validation carve: 10% of train, at most 1,000 examples, seed 0. */
export const DEFAULT_VALIDATION: Readonly<CarveOptions> = { fraction: 0.1, maxCount: 1000, seed: 0 };

/**
 * Carve a validation split out of train (stratified; seeded). The two parts are disjoint and
 * together are exactly `train`.
 */
export function carveValidation(
  train: readonly Example[],
  options: CarveOptions = DEFAULT_VALIDATION,
): { train: Example[]; validation: Example[] } {
  let k = resolveSize(options, train.length, 'validation');
  if (options.count === undefined && options.maxCount !== undefined) k = Math.min(k, options.maxCount);
  if (k >= train.length && train.length > 0) {
    throw new DataError(
      `validation would take all ${train.length} training examples; fix: use a smaller validation fraction or count`,
    );
  }
  const chosen = stratifiedSelect(
    train.map((e) => e.label),
    k,
    { seed: options.seed ?? 0, stratify: options.regression ? 'quantile' : 'class' },
  );
  const { chosen: validation, rest } = partition(train, chosen);
  return { train: rest, validation };
}

export interface SubsampleOptions extends SizeSpec {
  seed?: number;
  regression?: boolean;
  /** Default true: keep label proportions (quantile bins for regression). */
  stratified?: boolean;
}

/** A seeded subsample of the examples (original order kept). */
export function subsample(examples: readonly Example[], options: SubsampleOptions): Example[] {
  const k = resolveSize(options, examples.length, 'subsample');
  const stratify = options.stratified === false ? 'none' : options.regression ? 'quantile' : 'class';
  const chosen = stratifiedSelect(
    examples.map((e) => e.label),
    k,
    { seed: options.seed ?? 0, stratify },
  );
  return partition(examples, chosen).chosen;
}

/** Carve validation (when there is train and no validation file) and subsample train. Mutates. */
export function finishSplits(
  data: TaskData,
  options: { validation?: false | CarveOptions; subsample?: SubsampleOptions },
): void {
  const regression = data.info.regression;
  if (data.validation === undefined && data.train.length > 0 && options.validation !== false) {
    const carve = { ...(options.validation ?? DEFAULT_VALIDATION), regression };
    const { train, validation } = carveValidation(data.train, carve);
    data.train = train;
    data.validation = validation;
    data.validationSource = 'carved';
  }
  if (options.subsample !== undefined) data.train = subsample(data.train, { ...options.subsample, regression });
}
