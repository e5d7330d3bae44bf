import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchLoss, DIVERGENCE_FACTOR, DivergenceGuard, naturalLossScale } from './divergence.js';
import { DivergedError } from './errors.js';

test('batchLoss: softmax cross-entropy and squared error, unlabelled rows skipped', () => {
  // Row 0: logits (0, ln 3) label 1 -> -log(3/4); row 1: equal logits -> ln 2; row 2: label -1, skipped.
  const ce = batchLoss(Float32Array.of(0, Math.log(3), 5, 5, 9, -9), BigInt64Array.of(1n, 0n, -1n), 2, false);
  assert.equal(ce.rows, 2);
  assert.ok(Math.abs(ce.sum - (Math.log(4 / 3) + Math.LN2)) < 1e-6, String(ce.sum));
  // Large logits stay finite (max subtracted before exp).
  assert.ok(Math.abs(batchLoss([1000, 0], [1], 2, false).sum - 1000) < 1e-9);
  assert.deepEqual(batchLoss([1, -2], [3, 0], 1, true), { sum: 4 + 4, rows: 2 });
  assert.ok(Number.isNaN(batchLoss([Number.NaN, 0], [0], 2, false).sum));
});

test('naturalLossScale: ln(classes), or the mean squared label', () => {
  assert.equal(naturalLossScale(false, 2, []), Math.LN2);
  assert.equal(naturalLossScale(false, 3, []), Math.log(3));
  assert.equal(naturalLossScale(true, 1, [1, 3]), 5);
});

test('the guard: the limit is 100 x max(natural scale, first loss); every check throws DivergedError', () => {
  const g = new DivergenceGuard(Math.LN2, 0.5);
  assert.equal(g.limit, DIVERGENCE_FACTOR * Math.LN2);
  g.stepLoss(1, 3); // a high first loss raises the scale
  assert.equal(g.limit, 300);
  g.stepLoss(2, 299);
  g.evalLoss(2, 250);
  g.weights(2, [1, -1e30]);
  g.outputs(2, [1e20]);
  const throwsWith = (f: () => void, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof DivergedError && re.test(e.message) && /lower --lr/.test(e.message));
  throwsWith(() => g.stepLoss(3, 301), /^training diverged: the loss at step 3 301 exceeds 100 x .* 3 \(lr 0\.5\)/);
  throwsWith(() => g.stepLoss(3, Number.NaN), /the loss at step 3 is NaN/);
  throwsWith(() => g.evalLoss(4, Number.POSITIVE_INFINITY), /the evaluation loss after step 4 is Infinity/);
  throwsWith(() => g.evalLoss(4, 1e7), /the evaluation loss after step 4 10000000 exceeds/);
  throwsWith(() => g.weights(5, [0, Number.NaN]), /the weights are not finite after step 5/);
  throwsWith(() => g.outputs(5, [Number.NEGATIVE_INFINITY]), /the model's outputs are not finite after step 5/);
});

test('a NaN first loss does not become the scale', () => {
  const g = new DivergenceGuard(1, 1);
  assert.throws(() => g.stepLoss(1, Number.NaN), DivergedError);
  assert.equal(g.limit, 100);
});
