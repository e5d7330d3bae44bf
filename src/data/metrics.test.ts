import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy,
  argmaxRows,
  labelsOf,
  averageRanks,
  computeMetrics,
  f1Binary,
  macroF1,
  matthewsCorrelation,
  pearson,
  spearman,
} from './metrics.js';
import { Rng } from '../core/random.js';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('accuracy and binary F1 by hand', () => {
  close(accuracy([0, 1, 1, 0], [0, 1, 0, 0]), 0.75);
  // tp = 2 (i0, i3), fp = 1 (i1), fn = 1 (i4): F1 = 4 / 6
  close(f1Binary([1, 1, 0, 1, 0], [1, 0, 0, 1, 1]), 4 / 6);
  // positive class 0: tp = 1 (i2), fp = 1 (i4), fn = 1 (i1)
  close(f1Binary([1, 1, 0, 1, 0], [1, 0, 0, 1, 1], 0), 0.5);
  // no true and no predicted positives: 0 (scikit-learn's zero_division default)
  close(f1Binary([0, 0], [0, 0]), 0);
  // MRPC-like degenerate all-positive classifier: F1 = 2p / (1 + p)
  const gold = [1, 1, 1, 0, 0, 1, 1, 0, 1, 1];
  close(f1Binary(new Array(10).fill(1), gold), (2 * 0.7) / 1.7);
  assert.throws(() => accuracy([1], [1, 0]));
});

test('macro-F1 by hand (3 classes) and over present labels only', () => {
  // class 0: F1 1; class 1: tp1 fp1 fn1 -> 0.5; class 2: tp1 fp1 fn1 -> 0.5
  close(macroF1([0, 1, 2, 2, 1, 0], [0, 2, 2, 1, 1, 0]), 2 / 3);
  // only classes 0 and 1 occur: (F1_0 + F1_1) / 2, class 2 absent does not count
  const p = [0, 1, 1, 0];
  const g = [0, 1, 0, 0];
  close(macroF1(p, g), (f1Binary(p, g, 0) + f1Binary(p, g, 1)) / 2);
});

test('MCC: hand values, sign, constant predictions give 0', () => {
  close(matthewsCorrelation([0, 1, 2, 2, 1, 0], [0, 2, 2, 1, 1, 0]), 0.5);
  close(matthewsCorrelation([0, 1, 1, 0], [0, 1, 1, 0]), 1);
  close(matthewsCorrelation([1, 0, 0, 1], [0, 1, 1, 0]), -1);
  close(matthewsCorrelation([1, 1, 1, 1], [0, 1, 1, 0]), 0);
  close(matthewsCorrelation([0, 1, 0, 1], [1, 1, 1, 1]), 0);
});

/** MCC as the correlation of one-hot matrices (an independent formula). */
function mccOneHot(pred: number[], gold: number[], k: number): number {
  const n = pred.length;
  const cov = (a: number[], b: number[]): number => {
    let s = 0;
    for (let c = 0; c < k; c++) {
      let ma = 0;
      let mb = 0;
      for (let i = 0; i < n; i++) {
        ma += a[i] === c ? 1 : 0;
        mb += b[i] === c ? 1 : 0;
      }
      ma /= n;
      mb /= n;
      for (let i = 0; i < n; i++) s += ((a[i] === c ? 1 : 0) - ma) * ((b[i] === c ? 1 : 0) - mb);
    }
    return s;
  };
  return cov(pred, gold) / Math.sqrt(cov(pred, pred) * cov(gold, gold));
}

test('MCC equals the binary closed form and the one-hot correlation on random data', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 20; trial++) {
    const k = 2 + (trial % 3);
    const n = 30 + trial;
    const pred = Array.from({ length: n }, () => rng.int(k));
    const gold = Array.from({ length: n }, () => rng.int(k));
    close(matthewsCorrelation(pred, gold), mccOneHot(pred, gold, k), 1e-12);
    if (k === 2) {
      let tp = 0,
        tn = 0,
        fp = 0,
        fn = 0;
      for (let i = 0; i < n; i++) {
        if (pred[i] === 1 && gold[i] === 1) tp++;
        else if (pred[i] === 0 && gold[i] === 0) tn++;
        else if (pred[i] === 1) fp++;
        else fn++;
      }
      close(
        matthewsCorrelation(pred, gold),
        (tp * tn - fp * fn) / Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)),
        1e-12,
      );
    }
  }
});

test('Pearson by hand; constant input gives 0', () => {
  close(pearson([1, 2, 3, 4], [2, 4, 6, 8]), 1);
  close(pearson([1, 2, 3, 4], [8, 6, 4, 2]), -1);
  close(pearson([1, 2, 3, 4], [1, 3, 2, 4]), 0.8);
  close(pearson([1, 2, 3], [5, 5, 5]), 0);
  close(pearson([1], [2]), 0);
});

test('average ranks and Spearman with ties (scipy values)', () => {
  assert.deepEqual(Array.from(averageRanks([10, 20, 10, 30, 20, 20])), [1.5, 4, 1.5, 6, 4, 4]);
  // scipy.stats.spearmanr([1,2,2,3],[1,3,2,4]) = 0.9486832980505138 = 4.5 / sqrt(22.5)
  close(spearman([1, 2, 2, 3], [1, 3, 2, 4]), 4.5 / Math.sqrt(22.5));
  // monotone but non-linear: Spearman 1, Pearson < 1
  const x = [0.1, 0.5, 1, 2, 3, 5];
  const y = x.map((v) => v ** 3);
  close(spearman(x, y), 1);
  assert.ok(pearson(x, y) < 0.99);
  // no ties: 1 - 6 sum d^2 / (n (n^2 - 1)); ranks of y = [1, 3, 2, 4, 6, 5], d = [0, -1, 1, 0, -1, 1]
  close(spearman([1, 2, 3, 4, 5, 6], [1, 3, 2, 4, 6, 4.5]), 1 - (6 * 4) / (6 * 35));
});

test('argmaxRows picks the first maximum per row; labelsOf', () => {
  assert.deepEqual(Array.from(labelsOf([{ label: 2 }, { label: 0.5 }])), [2, 0.5]);
  assert.deepEqual(Array.from(argmaxRows([0.1, 0.9, 0.5, 2, -1, 2, 3, 3, 3], 3, 3)), [1, 0, 0]);
});

test('computeMetrics reports each metric and the main one', () => {
  const r = computeMetrics(
    { metrics: ['acc_and_f1', 'accuracy', 'f1'], mainMetric: 'acc_and_f1', positiveLabel: 1 },
    [1, 1, 0, 1, 0],
    [1, 0, 0, 1, 1],
  );
  close(r.metrics.accuracy!, 0.6);
  close(r.metrics.f1!, 4 / 6);
  close(r.main, (0.6 + 4 / 6) / 2);
  const s = computeMetrics(
    { metrics: ['pearson', 'spearman', 'pearson_spearman'], mainMetric: 'pearson', positiveLabel: 1 },
    [1, 2, 3, 4],
    [1, 3, 2, 4],
  );
  close(s.main, 0.8);
  close(s.metrics.spearman!, 0.8);
  close(s.metrics.pearson_spearman!, 0.8);
});
