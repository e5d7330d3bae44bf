/**
 * createPeft's serial adapter, flat prefix rows and LoRA q/v against the PyTorch oracle fixture
 * written by scripts/oracle/bert_oracle.py (case "hooks": the modules in both layers of a tiny
 * BERT with random non-zero weights): logits, loss and every PEFT + classifier gradient.
 * The fixture names its tensors `peft.layer.<l>.adapter.*` / `.prefix.*`; ours are `.sa.*` / `.pt.*`.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gradients } from '../graph/autodiff.js';
import { emitOnnx } from '../graph/onnx/emit.js';
import * as ops from '../graph/ops/index.js';
import { buildBert } from '../models/bert/builder.js';
import type { BertConfig } from '../models/bert/config.js';
import { createSession, tensor } from '../runtime/session.js';
import { parsePeftConfig } from './config.js';
import { createPeft } from './create.js';
import type { PeftWeights } from './types.js';

const dir = fileURLToPath(new URL('../../test/fixtures/oracle/', import.meta.url));
const manifest = JSON.parse(readFileSync(dir + 'bert_tiny.json', 'utf8')) as {
  config: Record<string, number>;
  batch: number;
  seq: number;
  prefix: number;
  bottleneck: number;
  rank: number;
  loraScale: number;
  inputs: Record<string, number[][] | number[]>;
  tensors: Record<string, { offset: number; shape: number[] }>;
};
const blob = readFileSync(dir + 'bert_tiny.bin');
const all = new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
const T = (key: string) => {
  const t = manifest.tensors[key];
  if (!t) throw new Error(`fixture has no ${key}`);
  return { data: all.slice(t.offset, t.offset + t.shape.reduce((a, b) => a * b, 1)), shape: t.shape };
};
const prefixed = (p: string) => new Map(Object.keys(manifest.tensors).filter((k) => k.startsWith(p)).map((k) => [k.slice(p.length), T(k)]));
const toFixture = (ours: string) => ours.replace('.sa.', '.adapter.').replace('.pt.', '.prefix.');

/** Largest |a - b| over max(|b|, 1e-2) (scale-free, as the bert oracle test). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  let e = 0;
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(b[i]!));
    e = Math.max(e, Math.abs(a[i]! - b[i]!));
  }
  return e / Math.max(m, 1e-2);
}

it('SA + flat PT + LoRA via createPeft match the PyTorch oracle (logits, loss, gradients)', async () => {
  const c = manifest.config;
  const config: BertConfig = {
    vocabSize: c['vocab_size']!,
    hiddenSize: c['hidden_size']!,
    numLayers: c['num_hidden_layers']!,
    numHeads: c['num_attention_heads']!,
    intermediateSize: c['intermediate_size']!,
    maxPositions: c['max_position_embeddings']!,
    typeVocabSize: c['type_vocab_size']!,
    layerNormEps: c['layer_norm_eps']!,
    hiddenDropout: 0,
    attentionDropout: 0,
    flavour: 'bert',
    padTokenId: 0,
  };
  const dims = { numLayers: config.numLayers, hidden: config.hiddenSize, numHeads: config.numHeads };
  const cfg = parsePeftConfig({ sa: manifest.bottleneck, pt: manifest.prefix, ptBottleneck: 0, lora: manifest.rank, loraAlpha: manifest.loraScale * manifest.rank }, dims.numLayers);
  const hw = prefixed('hookweight/');
  const weights: PeftWeights = new Map();
  const peft0 = createPeft(cfg, dims);
  for (const n of peft0.names) {
    const t = hw.get(toFixture(n));
    assert.ok(t, `fixture lacks ${toFixture(n)}`);
    weights.set(n, t);
  }
  assert.equal(weights.size, hw.size);
  const peft = createPeft(cfg, dims, { weights });
  const m = buildBert({ config, weights: prefixed('weight/'), seqLen: manifest.seq, numLabels: c['num_labels']!, trainable: (n) => n.startsWith('classifier'), hooks: peft.hooks, hiddenDropout: 0, attentionDropout: 0 });
  peft.assertBuilt();
  const labels = m.graph.input('labels', 'int64', ['batch']);
  const loss = ops.softmaxCrossEntropy(m.logits!, labels);
  const params = [...m.params, ...peft.params];
  const grads = gradients(loss, params);
  const model = emitOnnx({ outputs: [['logits', m.logits!], ['loss', loss], ...params.map((p, i) => [`g${i}`, grads.get(p)!] as const)], paramInputs: params });
  const s = await createSession(model, { threads: 1 });
  const B = manifest.batch;
  const S = manifest.seq;
  const i64 = (k: string) => BigInt64Array.from((manifest.inputs[k] as number[][]).flat(), (x) => BigInt(x));
  const feeds: Record<string, ReturnType<typeof tensor>> = {
    input_ids: tensor('int64', i64('input_ids'), [B, S]),
    attention_mask: tensor('int64', i64('attention_mask'), [B, S]),
    token_type_ids: tensor('int64', i64('token_type_ids'), [B, S]),
    labels: tensor('int64', BigInt64Array.from(manifest.inputs['labels'] as number[], (x) => BigInt(x)), [B]),
  };
  for (const p of params) feeds[p.name] = tensor('float32', m.graph.data.get(p) as Float32Array, p.shape as number[]);
  const out = await s.run(feeds);
  await s.release();
  assert.ok(relErr(out['logits']!.data as Float32Array, T('hooks/logits').data) < 1e-5);
  assert.ok(Math.abs(Number(out['loss']!.data[0]) - T('hooks/loss').data[0]!) < 1e-6);
  params.forEach((p, i) => {
    const e = relErr(out[`g${i}`]!.data as Float32Array, T(`hooks/grad/${toFixture(p.name)}`).data);
    assert.ok(e < 1e-4, `${p.name}: relative error ${e}`);
  });
});
