import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../../graph/ops/index.js';
import { compileEval, tensor } from '../../runtime/index.js';
import { Rng } from '../../testing/random.js';
import type { WeightMap } from '../types.js';
import { buildBert } from './builder.js';
import { bertConfigFromHf, BertConfigError, type BertConfig } from './config.js';
import { randomBertWeights } from './random.js';

const cfg: BertConfig = bertConfigFromHf({
  model_type: 'bert',
  vocab_size: 40,
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 32,
  max_position_embeddings: 20,
  type_vocab_size: 2,
});
const B = 2;
const S = 6;
const rng = new Rng(4);
const ids = BigInt64Array.from({ length: B * S }, () => BigInt(rng.int(40)));
const mask = BigInt64Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], BigInt);
const feeds = (tt = true) => ({
  input_ids: tensor('int64', ids, [B, S]),
  attention_mask: tensor('int64', mask, [B, S]),
  ...(tt ? { token_type_ids: tensor('int64', new BigInt64Array(B * S), [B, S]) } : {}),
});
const weights = randomBertWeights(cfg, 3, 1, 0.2);

async function logitsOf(m: ReturnType<typeof buildBert>, tt = true): Promise<Float32Array> {
  const ev = await compileEval(m.graph, { logits: m.logits! }, { threads: 1 });
  const out = (await ev.run(feeds(tt)))['logits']!.data as Float32Array;
  await ev.release();
  return out;
}
const close = (a: Float32Array, b: Float32Array, tol = 1e-5) =>
  a.forEach((x, i) => {
    assert.ok(Math.abs(x - b[i]!) < tol, `[${i}] ${x} vs ${b[i]}`);
  });

describe('buildBert', () => {
  it('reads a Hugging Face config', () => {
    assert.equal(cfg.hiddenSize, 16);
    assert.equal(cfg.layerNormEps, 1e-12);
    assert.equal(cfg.flavour, 'bert');
    assert.equal(
      bertConfigFromHf({
        ...{ model_type: 'roberta' },
        vocab_size: 1,
        hidden_size: 2,
        num_hidden_layers: 1,
        num_attention_heads: 1,
        intermediate_size: 2,
      }).padTokenId,
      1,
    );
    assert.throws(() => bertConfigFromHf({ hidden_size: 2 }), /missing numeric field 'vocab_size'/);
  });

  it('a missing or misshapen weight is a BertConfigError naming it', () => {
    const w = new Map(weights);
    w.delete('bert.encoder.layer.1.output.dense.bias');
    assert.throws(
      () => buildBert({ config: cfg, weights: w, seqLen: S, numLabels: 3 }),
      (e: Error) => e instanceof BertConfigError && e.message.includes("'bert.encoder.layer.1.output.dense.bias'"),
    );
    const w2 = new Map(weights);
    w2.set('classifier.bias', { data: new Float32Array(2), shape: [2] });
    assert.throws(
      () => buildBert({ config: cfg, weights: w2, seqLen: S, numLabels: 3 }),
      /classifier.bias' has shape \[2\], expected \[3\]/,
    );
  });

  it('trainable(name) decides params; no-op hooks leave the logits unchanged', async () => {
    const base = buildBert({ config: cfg, weights, seqLen: S, numLabels: 3 });
    assert.equal(base.params.length, 0);
    const full = buildBert({
      config: cfg,
      weights,
      seqLen: S,
      numLabels: 3,
      trainable: (n) => n.startsWith('classifier'),
    });
    assert.deepEqual(
      full.params.map((p) => p.name),
      ['classifier.weight', 'classifier.bias'],
    );
    const hooked = buildBert({
      config: cfg,
      weights,
      seqLen: S,
      numLabels: 3,
      hooks: {
        // A serial adapter whose up-projection starts at zero is a no-op.
        ffn: ({ layer, graph, output }) => {
          const down = graph.param(`a${layer}.down`, new Rng(layer).float32(4 * 16), [4, 16]);
          const up = graph.param(`a${layer}.up`, new Float32Array(16 * 4), [16, 4]);
          return ops.add(output, ops.linear(ops.relu(ops.linear(output, down)), up));
        },
        projection: ({ output }) => output,
      },
    });
    close(await logitsOf(hooked), await logitsOf(base));
  });

  it('RoBERTa flavour equals BERT with renamed weights, positions offset by pad+1, one token type', async () => {
    const rcfg: BertConfig = {
      ...cfg,
      flavour: 'roberta',
      padTokenId: 1,
      typeVocabSize: 1,
      maxPositions: cfg.maxPositions + 2,
    };
    const rw = new Map<string, { data: Float32Array; shape: readonly number[] }>();
    for (const [k, v] of weights) {
      let name = k.replace(/^bert\./, 'roberta.');
      if (k === 'bert.pooler.dense.weight' || k === 'bert.pooler.dense.bias')
        name = k.replace('bert.pooler.dense', 'classifier.dense');
      if (k === 'classifier.weight' || k === 'classifier.bias') name = k.replace('classifier', 'classifier.out_proj');
      if (k.endsWith('position_embeddings.weight')) {
        const d = new Float32Array((cfg.maxPositions + 2) * 16);
        d.set(v.data, 2 * 16);
        rw.set(name, { data: d, shape: [cfg.maxPositions + 2, 16] });
      } else if (k.endsWith('token_type_embeddings.weight'))
        rw.set(name, { data: v.data.slice(0, 16), shape: [1, 16] });
      else rw.set(name, v);
    }
    const r = buildBert({ config: rcfg, weights: rw as WeightMap, seqLen: S, numLabels: 3 });
    assert.equal(r.tokenTypeIds, undefined);
    const b = buildBert({ config: cfg, weights, seqLen: S, numLabels: 3 });
    close(await logitsOf(r, false), await logitsOf(b));
  });

  it('a symbolic seqLen program runs any length and equals the static builds', async () => {
    const dyn = buildBert({ config: cfg, weights, seqLen: 'seq', numLabels: 3 });
    const ev = await compileEval(dyn.graph, { logits: dyn.logits! }, { threads: 1 });
    for (const len of [S, 4]) {
      const cut = (a: BigInt64Array) =>
        BigInt64Array.from({ length: B * len }, (_, i) => a[Math.floor(i / len) * S + (i % len)]!);
      const f = {
        input_ids: tensor('int64', cut(ids), [B, len]),
        attention_mask: tensor('int64', cut(mask), [B, len]),
        token_type_ids: tensor('int64', new BigInt64Array(B * len), [B, len]),
      };
      const st = buildBert({ config: cfg, weights, seqLen: len, numLabels: 3 });
      const es = await compileEval(st.graph, { logits: st.logits! }, { threads: 1 });
      close((await ev.run(f))['logits']!.data as Float32Array, (await es.run(f))['logits']!.data as Float32Array);
      await es.release();
    }
    await ev.release();
  });

  it('prefix rows change the output and take a gradient path; seqLen over max positions is an error', async () => {
    assert.throws(
      () => buildBert({ config: cfg, weights, seqLen: 21, numLabels: 3 }),
      /exceeds max_position_embeddings/,
    );
    const pre = buildBert({
      config: cfg,
      weights,
      seqLen: S,
      numLabels: 3,
      hooks: {
        prefix: (l, g) => ({
          key: g.param(`p${l}.k`, new Rng(l + 9).float32(3 * 16), [3, 16]),
          value: g.param(`p${l}.v`, new Rng(l + 19).float32(3 * 16), [3, 16]),
        }),
      },
    });
    const base = buildBert({ config: cfg, weights, seqLen: S, numLabels: 3 });
    const a = await logitsOf(pre);
    const b = await logitsOf(base);
    assert.ok(a.some((x, i) => Math.abs(x - b[i]!) > 1e-4));
  });
});
