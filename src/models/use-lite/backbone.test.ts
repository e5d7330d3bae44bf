import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { shapeSize } from '../../graph/ir.js';
import { compileEval } from '../../runtime/eval.js';
import { tensor, type ort } from '../../runtime/session.js';
import { loadUseLiteBackbone, type UseLiteBackbone } from './backbone.js';
import { buildUseLite } from './graph.js';
import { UseLiteLayerCache } from './layer-cache.js';

let bb: UseLiteBackbone;

before(() => {
  bb = loadUseLiteBackbone();
});

const TEXTS = ['a gripping , funny film', 'dull and far too long', 'it is not a bad movie at all', 'fine'];

function feeds(texts: readonly string[], S: number): Record<string, ort.Tensor> {
  const B = texts.length;
  const ids = new BigInt64Array(B * S).fill(BigInt(bb.tokenizer.padId));
  const mask = new BigInt64Array(B * S);
  texts.forEach((s, b) => {
    bb.tokenizer.encode(s, undefined, S).inputIds.forEach((v, t) => {
      ids[b * S + t] = BigInt(v);
      mask[b * S + t] = 1n;
    });
  });
  return { input_ids: tensor('int64', ids, [B, S]), attention_mask: tensor('int64', mask, [B, S]) };
}

test('dims, parameter counts, and what full fine-tuning trains', () => {
  assert.deepEqual({ ...bb.dims }, { numLayers: 2, hidden: 512, numHeads: 4, attentionWidths: [256, 512] });
  assert.equal(bb.kind, 'use-lite');
  assert.equal(bb.maxLength, 128);
  assert.equal(bb.headParams(3), 3 * 512 + 3);
  // Every weight of the encoder once: the frozen graph's constants named use_lite.* (timing signal excluded).
  const g = buildUseLite({ model: bb.model, seqLen: 4 }).graph;
  const encoder = g.constants.filter((c) => c.name.startsWith('use_lite.') && c.name !== 'use_lite.timing_signal');
  assert.equal(
    bb.backboneParams,
    encoder.reduce((s, c) => s + shapeSize(c.shape), 0),
  );
  assert.equal(bb.backboneParams, 6_975_744);
  const full = bb.buildClassifier({ seqLen: 4, numLabels: 2, seed: 1, dropout: false, fullFineTune: true });
  assert.equal(full.graph.paramCount(), bb.backboneParams - 8002 * 256 + bb.headParams(2));
  assert.ok(full.graph.constants.some((c) => c.name === 'use_lite.embeddings'));
  const peft = bb.buildClassifier({ seqLen: 4, numLabels: 2, seed: 1, dropout: false });
  assert.deepEqual(
    peft.graph.params.map((p) => p.name),
    ['classifier.weight', 'classifier.bias'],
  );
  assert.deepEqual(peft.inputNames, ['input_ids', 'attention_mask']);
});

test('layerCache capability: head-only logits from cached layer-k inputs equal the full forward', async () => {
  const S = 12;
  const f = feeds(TEXTS, S);
  const logitsOf = async (fromLayer: number, extra: Record<string, ort.Tensor>) => {
    const built = bb.buildClassifier({ seqLen: S, numLabels: 2, seed: 9, dropout: false, fromLayer });
    const ev = await compileEval(built.graph, { logits: built.logits }, { threads: 2, params: built.graph.params });
    const feed = Object.fromEntries(built.inputNames.map((n) => [n, extra[n] ?? f[n]!]));
    const out = (await ev.run(feed)).logits.data as Float32Array;
    await ev.release();
    return { out, inputs: built.inputNames };
  };
  const full = await logitsOf(0, {});
  for (const k of [1, 2]) {
    const cache = bb.layerCache(k, { threads: 2, batchSize: 3 });
    const rows = await cache.compute(TEXTS.map((t) => bb.tokenizer.encode(t, undefined, S).inputIds));
    assert.equal(cache.width, k === 0 ? 256 : 512);
    assert.equal(rows[3]!.length, bb.tokenizer.encode(TEXTS[3]!).inputIds.length * cache.width);
    assert.deepEqual(cache.assemble(rows, S), UseLiteLayerCache.assemble(rows, S, cache.width));
    assert.throws(() => cache.assemble(rows, 2), /more than the batch length 2/);
    const hidden = tensor('float32', cache.assemble(rows, S), [TEXTS.length, S, cache.width]);
    await cache.release();
    const cached = await logitsOf(k, { hidden_in: hidden });
    assert.deepEqual(cached.inputs, ['hidden_in', 'attention_mask']);
    full.out.forEach((v, i) => {
      assert.ok(Math.abs(v - cached.out[i]!) < 1e-5, `k=${k} logit ${i}: ${v} vs ${cached.out[i]}`);
    });
  }
  assert.throws(() => bb.layerCache(3), /cache layer 3 is outside 0\.\.2/);
  assert.throws(
    () => bb.buildClassifier({ seqLen: 4, numLabels: 2, seed: 0, dropout: false, fullFineTune: true, fromLayer: 1 }),
    /full fine-tuning/,
  );
});

test("exportBackbone capability: the frozen export graph with no hooks gives the classifier's logits (head seed 0)", async () => {
  const S = 10;
  const f = feeds(TEXTS, S);
  const exp = bb.exportBackbone({ seqLen: S, numLabels: 3 });
  assert.deepEqual(exp.dims, bb.dims);
  assert.equal(exp.projectionWeightName(0, 'value'), 'use_lite.layer.0.value.weight');
  // The virtual [256, 256] value matrix of layer 0 is the transposed slice of the packed q|k|v kernel.
  const v0 = exp.weights.get('use_lite.layer.0.value.weight')!;
  assert.deepEqual(v0.shape, [256, 256]);
  const qkv = bb.model.params.layers[0]!.qkv.kernel;
  assert.equal(v0.data[5 * 256 + 7], qkv[7 * 768 + 512 + 5]);
  const { graph, logits } = exp.build(exp.weights, {});
  assert.equal(graph.params.length, 0);
  const ev = await compileEval(graph, { logits }, { threads: 2 });
  const got = (await ev.run(f)).logits.data as Float32Array;
  await ev.release();
  const ref = bb.buildClassifier({ seqLen: S, numLabels: 3, seed: 0, dropout: false });
  const ev2 = await compileEval(ref.graph, { logits: ref.logits }, { threads: 2, params: ref.graph.params });
  const want = (await ev2.run(f)).logits.data as Float32Array;
  await ev2.release();
  assert.equal(got.length, TEXTS.length * 3);
  want.forEach((v, i) => {
    assert.ok(Math.abs(v - got[i]!) < 1e-5, `logit ${i}: ${got[i]} vs ${v}`);
  });
});
