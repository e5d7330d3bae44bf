import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../graph/ir.js';
import * as ops from '../graph/ops/index.js';
import { compileTraining } from './training.js';
import { tensor } from './session.js';

/** loss = sum over a [B, S] input of (x * w)^2: the same params at any S. */
async function program(seq: number) {
  const g = new Graph();
  const w = g.param('w', Float32Array.of(0.5), [1]);
  const x = g.input('x', 'float32', ['batch', seq]);
  const y = ops.mul(x, w);
  const loss = ops.reduceSum(ops.mul(y, y), [0, 1], false);
  return compileTraining({ loss, threads: 1 });
}

test('programs at two static shapes continue one AdamW run through getState/setState', async () => {
  const a = await program(2);
  const b = await program(3);
  const ref = await program(2);
  // Run: A(step1) -> B(step2) -> A(step3); reference: the same batches... all at width 2 with a
  // zero third column, which contributes nothing to the loss, so the gradients are identical.
  const xa = tensor('float32', Float32Array.of(1, 2), [1, 2]);
  const xb = tensor('float32', Float32Array.of(3, -1, 0), [1, 3]);
  const xbRef = tensor('float32', Float32Array.of(3, -1), [1, 2]);
  await a.step({ x: xa }, 0.1);
  b.setState(a.getState());
  await b.step({ x: xb }, 0.1);
  a.setState(b.getState());
  await a.step({ x: xa }, 0.1);
  await ref.step({ x: xa }, 0.1);
  await ref.step({ x: xbRef }, 0.1);
  await ref.step({ x: xa }, 0.1);
  assert.equal(a.stepsTaken, 3);
  const got = a.readParams().get('w')!.data[0]!;
  const want = ref.readParams().get('w')!.data[0]!;
  assert.ok(Math.abs(got - want) < 1e-7, `${got} vs ${want}`);
  assert.notEqual(got, 0.5);
  const bad = await (async () => {
    const g = new Graph();
    const w = g.param('w', Float32Array.of(1, 2), [2]);
    return compileTraining({ loss: ops.reduceSum(ops.mul(w, w), [0], false), threads: 1 });
  })();
  assert.throws(() => bad.setState(a.getState()), /state has 1 params, this program has 2/);
});
