import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../graph/ir.js';
import { compileEval } from '../../runtime/eval.js';
import { tensor } from '../../runtime/session.js';
import { activate } from './builder.js';
import { bertConfigFromHf } from './config.js';

const xs = [-4, -1.5, -0.3, 0, 0.2, 1, 2.5, 6];
const erf = (x: number) => {
  // Abramowitz-Stegun 7.1.26 is too coarse for 1e-6; integrate the series instead.
  let sum = 0;
  let term = x;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
};
const refs = {
  gelu: (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_tanh: (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  relu: (x: number) => Math.max(0, x),
  silu: (x: number) => x / (1 + Math.exp(-x)),
} as const;

for (const act of Object.keys(refs) as (keyof typeof refs)[]) {
  test(`FFN activation ${act} equals its closed form`, async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [xs.length]);
    const prog = await compileEval(g, { y: activate(x, act) }, { threads: 1 });
    const y = (await prog.run({ x: tensor('float32', Float32Array.from(xs), [xs.length]) })).y!.data as Float32Array;
    xs.forEach((v, i) => {
      assert.ok(Math.abs(y[i]! - refs[act](v)) < 1e-5, `${act}(${v}) = ${y[i]} vs ${refs[act](v)}`);
    });
    await prog.release();
  });
}

test('hidden_act from config.json maps to the builder activation', () => {
  const base = { vocab_size: 10, hidden_size: 4, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: 8 };
  assert.equal(bertConfigFromHf(base).hiddenAct, 'gelu');
  assert.equal(bertConfigFromHf({ ...base, hidden_act: 'gelu_new' }).hiddenAct, 'gelu_tanh');
  assert.equal(bertConfigFromHf({ ...base, hidden_act: 'relu' }).hiddenAct, 'relu');
  assert.throws(() => bertConfigFromHf({ ...base, hidden_act: 'mish' }), /hidden_act "mish" is not supported/);
});
