/**
 * Siamese pairs on USE-lite (./graph.ts `siamese`): both texts run through the same encoder, each
 * as its own sequence, so u and v are the reference embeddings of the two texts; the pair heads
 * have the sizes `headParams` says; the frozen-prefix cache serves both streams.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { compileEval } from '../../runtime/eval.js';
import { tensor, type ort } from '../../runtime/session.js';
import { PAIR_HEADS, resolvePairEncoding } from '../types.js';
import { loadUseLiteBackbone, type UseLiteBackbone } from './backbone.js';
import { buildUseLite } from './graph.js';
import { UseLiteLayerCache } from './layer-cache.js';
import { embedReference } from './reference.js';

let bb: UseLiteBackbone;
before(() => {
  bb = loadUseLiteBackbone();
});

const A = ['the cat sat on the mat', 'stocks fell sharply on monday', 'he said no', 'a b'];
const B = ['a cat was sitting on a mat', 'he said no', 'shares dropped steeply monday after the report', 'a b'];

/** Token feeds of one stream, padded to S. */
function stream(texts: readonly string[], S: number): { ids: ort.Tensor; mask: ort.Tensor } {
  const ids = new BigInt64Array(texts.length * S).fill(BigInt(bb.tokenizer.padId));
  const mask = new BigInt64Array(texts.length * S);
  texts.forEach((s, b) => {
    bb.tokenizer.encode(s, undefined, S).inputIds.forEach((v, t) => {
      ids[b * S + t] = BigInt(v);
      mask[b * S + t] = 1n;
    });
  });
  return { ids: tensor('int64', ids, [texts.length, S]), mask: tensor('int64', mask, [texts.length, S]) };
}

function pairFeeds(S: number): Record<string, ort.Tensor> {
  const a = stream(A, S);
  const b = stream(B, S);
  return { input_ids: a.ids, attention_mask: a.mask, input_ids_b: b.ids, attention_mask_b: b.mask };
}

test('pair encoding capability: USE-lite is siamese by default, cross on request; a bad value is one line', () => {
  assert.deepEqual(bb.pairEncodings, ['siamese', 'cross']);
  assert.equal(resolvePairEncoding(bb), 'siamese');
  assert.equal(resolvePairEncoding(bb, 'cross'), 'cross');
  assert.equal(resolvePairEncoding({ kind: 'bert' }), 'cross');
  assert.throws(() => resolvePairEncoding({ kind: 'bert' }, 'siamese'), /--pair-encoding siamese: bert backbones/);
  assert.throws(() => resolvePairEncoding(bb, 'both'), /--pair-encoding must be one of cross, siamese/);
});

test('siamese forward: u and v equal embedReference of each text (padding to the longer text changes nothing)', async () => {
  const S = 14;
  const built = buildUseLite({ model: bb.model, seqLen: S, siamese: true });
  const [u, v] = built.pairEmbeddings!;
  const ev = await compileEval(built.graph, { u, v }, { threads: 1 });
  try {
    const out = await ev.run(pairFeeds(S));
    const H = 512;
    for (const [name, texts] of [
      ['u', A],
      ['v', B],
    ] as const) {
      const ref = embedReference(bb.model, texts);
      const got = out[name]!.data as Float32Array;
      ref.forEach((r, i) => {
        let err = 0;
        for (let j = 0; j < H; j++) err = Math.max(err, Math.abs(got[i * H + j]! - r[j]!));
        assert.ok(err < 2e-6, `${name}[${i}] differs from the reference by ${err}`);
      });
    }
  } finally {
    await ev.release();
  }
});

test('pair heads: trainable counts match headParams, inputs name both streams, cosine starts on the label range', async () => {
  for (const head of PAIR_HEADS) {
    const numLabels = head === 'cosine' ? 1 : 3;
    const built = bb.buildClassifier({
      seqLen: 8,
      numLabels,
      seed: 1,
      dropout: true,
      pairEncoding: 'siamese',
      pairHead: head,
      labelRange: [0, 5],
    });
    assert.equal(built.graph.paramCount(), bb.headParams(numLabels, { encoding: 'siamese', head }), head);
    assert.deepEqual(built.inputNames, ['input_ids', 'attention_mask', 'input_ids_b', 'attention_mask_b']);
  }
  assert.throws(
    () =>
      bb.buildClassifier({
        seqLen: 8,
        numLabels: 2,
        seed: 1,
        dropout: false,
        pairEncoding: 'siamese',
        pairHead: 'cosine',
      }),
    /cosine pair head is for regression/,
  );
  // cosine: prediction = 5 cos(u, v) + 0 at the start (SBERT's cos vs label / 5).
  const S = 14;
  const built = bb.buildClassifier({
    seqLen: S,
    numLabels: 1,
    seed: 1,
    dropout: false,
    pairEncoding: 'siamese',
    pairHead: 'cosine',
    labelRange: [0, 5],
  });
  const ev = await compileEval(built.graph, { logits: built.logits }, { threads: 1, params: built.graph.params });
  try {
    const got = (await ev.run(pairFeeds(S))).logits!.data as Float32Array;
    const ra = embedReference(bb.model, A);
    const rb = embedReference(bb.model, B);
    ra.forEach((a, i) => {
      const cos = a.reduce((s, x, j) => s + x * rb[i]![j]!, 0);
      assert.ok(Math.abs(got[i]! - 5 * cos) < 1e-4, `pair ${i}: ${got[i]} vs ${5 * cos}`);
    });
    assert.ok(Math.abs(got[3]! - 5) < 1e-4, 'identical texts: cos 1 -> the top of the range');
  } finally {
    await ev.release();
  }
});

test('frozen-prefix caching: siamese logits from both streams cached at layer 1 equal the full forward', async () => {
  const S = 14;
  const f = pairFeeds(S);
  const run = async (fromLayer: number, feeds: Record<string, ort.Tensor>) => {
    const built = bb.buildClassifier({
      seqLen: S,
      numLabels: 2,
      seed: 4,
      dropout: false,
      fromLayer,
      pairEncoding: 'siamese',
    });
    const ev = await compileEval(built.graph, { logits: built.logits }, { threads: 1, params: built.graph.params });
    try {
      return (await ev.run(feeds)).logits!.data as Float32Array;
    } finally {
      await ev.release();
    }
  };
  const full = await run(0, f);
  const cache = new UseLiteLayerCache(bb.model, 1, { threads: 1 });
  const hidden = async (texts: readonly string[]) => {
    const rows = await cache.compute(texts.map((t) => bb.tokenizer.encode(t, undefined, S).inputIds));
    const data = new Float32Array(texts.length * S * cache.width);
    rows.forEach((r, i) => {
      data.set(r, i * S * cache.width);
    });
    return tensor('float32', data, [texts.length, S, cache.width]);
  };
  try {
    const cached = await run(1, {
      hidden_in: await hidden(A),
      attention_mask: f.attention_mask!,
      hidden_in_b: await hidden(B),
      attention_mask_b: f.attention_mask_b!,
    });
    full.forEach((x, i) => {
      assert.ok(Math.abs(x - cached[i]!) < 1e-4, `logit ${i}: ${x} vs ${cached[i]}`);
    });
  } finally {
    await cache.release();
  }
});
