import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError } from '../io/errors.js';
import { loadUseLite, USE_LITE_WEIGHT_NAMES } from './load.js';

const model = loadUseLite();

test('config read off the graph: sizes and constants', () => {
  const c = model.config;
  assert.deepEqual(
    {
      vocabSize: c.vocabSize,
      pieces: c.pieces,
      embedDim: c.embedDim,
      hidden: c.hidden,
      layers: c.layers,
      heads: c.heads,
      ffn: c.ffn,
      maxLength: c.maxLength,
    },
    { vocabSize: 8002, pieces: 8000, embedDim: 256, hidden: 512, layers: 2, heads: 4, ffn: 1536, maxLength: 128 },
  );
  assert.equal(c.layerNormEpsilon, Math.fround(1e-6));
  assert.equal(c.l2Epsilon, Math.fround(1e-12));
  assert.equal(c.attentionMaskBias, -1e9);
  assert.equal(model.tokenizer.vocabSize, 8002);
  assert.equal(model.tokenizer.maxLength, 128);
});

test('layer shapes: layer 0 attends at 256 and widens to 512 through a residual projection', () => {
  const [l0, l1] = model.params.layers;
  assert.deepEqual(
    [l0.inDim, l0.outDim, l0.headDim, l0.qkv.cols, l0.out.rows, l0.out.cols],
    [256, 512, 64, 768, 256, 512],
  );
  assert.deepEqual([l0.residual?.rows, l0.residual?.cols], [256, 512]);
  assert.deepEqual([l1.inDim, l1.outDim, l1.headDim, l1.qkv.cols], [512, 512, 128, 1536]);
  assert.equal(l1.residual, null);
  for (const l of model.params.layers) {
    // The graph's query scaling is headDim^-0.5, rounded to float32.
    assert.equal(l.attnScale, Math.fround(l.headDim ** -0.5));
    assert.deepEqual([l.ffn1.rows, l.ffn1.cols, l.ffn2.rows, l.ffn2.cols], [l.outDim, 1536, 1536, l.outDim]);
  }
});

test('timing-signal frequencies are 10^4^(-i/127), i = 0..127 (min timescale 1, max 1e4)', () => {
  const w = model.params.invTimescales;
  assert.equal(w.length, 128);
  for (let i = 0; i < 128; i++) {
    const want = Math.exp((-i * Math.log(1e4)) / 127);
    assert.ok(Math.abs(w[i] - want) <= 1e-6 * want, `w[${i}] = ${w[i]} vs ${want}`);
  }
});

test('parameter count: closed form, and every other manifest tensor is a small graph constant', () => {
  const dense = (i: number, o: number) => i * o + o;
  const layer0 =
    2 * 256 + dense(256, 768) + dense(256, 512) + dense(256, 512) + 2 * 512 + dense(512, 1536) + dense(1536, 512);
  const layer1 = 2 * 512 + dense(512, 1536) + dense(512, 512) + 2 * 512 + dense(512, 1536) + dense(1536, 512);
  const total = 8002 * 256 + layer0 + layer1 + dense(512, 512);
  assert.equal(model.config.params, total);
  assert.equal(total, 6975744);
  const N = USE_LITE_WEIGHT_NAMES;
  const paramNames = new Set<string>([N.embeddings, N.poolKernel, N.poolBias, N.residualKernel(0), N.residualBias(0)]);
  for (const l of [0, 1]) {
    for (const f of [
      N.attnNormScale,
      N.attnNormBias,
      N.qkvKernel,
      N.qkvBias,
      N.outKernel,
      N.outBias,
      N.ffnNormScale,
      N.ffnNormBias,
      N.ffn1Kernel,
      N.ffn1Bias,
      N.ffn2Kernel,
      N.ffn2Bias,
    ])
      paramNames.add(f(l));
  }
  let paramFloats = 0;
  let otherFloats = 0;
  for (const [name, t] of model.weights) {
    if (paramNames.has(name)) paramFloats += t.data.length;
    else otherFloats += t.data.length;
  }
  assert.equal(paramFloats, total);
  assert.ok(otherFloats <= 128 + 64, `non-parameter tensors hold ${otherFloats} values`);
});

test('a directory without the model files is a typed error naming the file', () => {
  assert.throws(
    () => loadUseLite('/nonexistent-use-lite'),
    (e: unknown) => e instanceof CheckpointError && /\/nonexistent-use-lite\/model\.json not found/.test(e.message),
  );
});

test('traceUseLiteBatch stacks per-text traces into padded B x T arrays with a mask', async () => {
  const { traceUseLite, traceUseLiteBatch } = await import('./reference.js');
  const batch = [
    model.tokenizer.encodeIds('a gentle film'),
    [],
    model.tokenizer.encodeIds('it is not a bad movie at all'),
  ];
  const bt = traceUseLiteBatch(model, batch);
  const T = Math.max(...batch.map((b) => b.length));
  assert.equal(bt.seqLen, T);
  assert.deepEqual(
    Array.from(bt.mask.subarray(0, T)),
    batch[0].map(() => 1).concat(new Array(T - batch[0].length).fill(0)),
  );
  assert.ok(bt.mask.subarray(T, 2 * T).every((m) => m === 0));
  assert.ok(Array.from(bt.ids.subarray(T, 2 * T)).every((id) => id === model.tokenizer.padId));
  const single = traceUseLite(model, batch[2]);
  assert.deepEqual(bt.layers[1].output.subarray(2 * T * 512, 3 * T * 512), single.layers[1].output);
  assert.ok(
    bt.layers[0].output.subarray(batch[0].length * 512, T * 512).every((v) => v === 0),
    'zeros at padding',
  );
  assert.deepEqual(bt.embedding.subarray(2 * 512, 3 * 512), single.embedding);
  // An empty text pools to zero: its embedding is the normalised tanh of the bias alone.
  const z = model.params.pool.bias.map(Math.tanh);
  const n = Math.sqrt(z.reduce((s, v) => s + v * v, 0));
  bt.embedding.subarray(512, 1024).forEach((v, j) => {
    assert.ok(Math.abs(v - z[j] / n) < 1e-6);
  });
});
