import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../ir.js';
import { GraphError } from '../errors.js';
import * as ops from './index.js';

describe('op builders: shape inference and errors', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 8, 16]);
  it('broadcasts with symbolic dims', () => {
    assert.deepEqual(ops.add(x, g.constant(new Float32Array(16), [16])).shape, ['batch', 8, 16]);
    assert.deepEqual(ops.mul(x, g.constant(new Float32Array(8), [8, 1])).shape, ['batch', 8, 16]);
    assert.throws(
      () => ops.add(x, g.constant(new Float32Array(8), [8])),
      /Add: shapes \[batch,8,16\] and \[8\] do not broadcast/,
    );
    assert.throws(() => ops.add(x, g.input('y', 'float32', ['seq', 8, 16])), GraphError);
  });
  it('matmul, linear and transposes', () => {
    const w = g.param('w', new Float32Array(32 * 16), [32, 16]);
    assert.deepEqual(ops.linear(x, w).shape, ['batch', 8, 32]);
    assert.deepEqual(ops.matmul(x, x, { transB: true }).shape, ['batch', 8, 8]);
    assert.deepEqual(ops.matmul(x, x, { transA: true }).shape, ['batch', 16, 16]);
    assert.throws(() => ops.matmul(x, w), /inner dims differ \(16 vs 32\)/);
    assert.deepEqual(ops.transpose(x, [0, 2, 1]).shape, ['batch', 16, 8]);
    assert.throws(() => ops.transpose(x, [0, 0, 1]), /not a permutation/);
  });
  it('reshape infers -1 with symbols, keeps 0, checks counts', () => {
    assert.deepEqual(ops.reshape(x, [0, 0, 2, 8]).shape, ['batch', 8, 2, 8]);
    assert.deepEqual(ops.reshape(x, [-1, 16]).shape, ['batch*8', 16]);
    assert.deepEqual(ops.reshape(x, ['batch', -1]).shape, ['batch', 128]);
    const s = g.input('s', 'float32', [4, 6]);
    assert.throws(() => ops.reshape(s, [5, 5]), /has 24 elements/);
    assert.deepEqual(ops.reshape(s, [3, -1]).shape, [3, 8]);
  });
  it('reductions, slices, concat, gather, squeeze', () => {
    assert.deepEqual(ops.reduceSum(x, [1]).shape, ['batch', 16]);
    assert.deepEqual(ops.reduceMean(x, [-1], true).shape, ['batch', 8, 1]);
    assert.deepEqual(ops.slice(x, [0], [1], [1]).shape, ['batch', 1, 16]);
    assert.deepEqual(ops.slice(x, [2, -4], [100, -1], [1, 2]).shape, ['batch', 6, 3]);
    assert.deepEqual(ops.slice(x, [0], [1], [0]).shape, [1, 8, 16]); // symbolic axis: caller guarantees the size
    assert.throws(() => ops.slice(x, [-1], [100], [0]), /symbolic/);
    assert.deepEqual(ops.concat([x, x], 2).shape, ['batch', 8, 32]);
    const table = g.constant(new Float32Array(10 * 4), [10, 4]);
    const ids = g.input('ids', 'int64', ['batch', 8]);
    assert.deepEqual(ops.gather(table, ids).shape, ['batch', 8, 4]);
    assert.throws(() => ops.gather(table, x), /indices .* must be int64/);
    assert.deepEqual(ops.squeeze(ops.unsqueeze(x, [1]), [1]).shape, ['batch', 8, 16]);
    assert.throws(() => ops.squeeze(x, [1]), /dim 1 of .* is not 1/);
  });
  it('nn ops validate their inputs', () => {
    const gm = g.constant(new Float32Array(16), [16]);
    assert.deepEqual(ops.layerNorm(x, gm, gm).shape, ['batch', 8, 16]);
    assert.throws(() => ops.layerNorm(x, g.constant(new Float32Array(8), [8]), gm), /must be \[16\]/);
    const logits = g.input('logits', 'float32', ['batch', 3]);
    assert.deepEqual(ops.softmaxCrossEntropy(logits, g.input('labels', 'int64', ['batch'])).shape, []);
    assert.throws(() => ops.softmaxCrossEntropy(x, g.input('l2', 'int64', ['batch'])), /must be \[N, C\]/);
    assert.throws(() => ops.dropout(x, 1, 0), /ratio 1 must be in \[0, 1\)/);
    assert.equal(ops.dropout(x, 0, 0), x);
    assert.throws(() => ops.exp(g.input('ints', 'int64', [2])), /must be float32 or float64/);
  });
  it('graph names: inputs/params must be unique, generated names never clash', () => {
    const h = new Graph();
    h.input('a', 'float32', [1]);
    assert.throws(() => h.param('a', new Float32Array(1), [1]), /duplicate value name 'a'/);
    assert.throws(() => h.param('b', new Float32Array(2), [3]), /data has 2 elements but shape \[3\] needs 3/);
    assert.notEqual(h.freshInput('a', 'float32', [1]).name, 'a');
  });
});
