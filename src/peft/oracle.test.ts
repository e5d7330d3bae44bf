/**
 * createPeft's serial adapter, flat prefix rows and LoRA q/v against the PyTorch oracle fixture
 * written by scripts/oracle/bert_oracle.py (case "hooks": the modules in both layers of a tiny
 * BERT with random non-zero weights): logits, loss and every PEFT + classifier gradient.
 * The fixture names its tensors `peft.layer.<l>.adapter.*` / `.prefix.*`; ours are `.sa.*` / `.pt.*`.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { gradients } from '../graph/autodiff.js';
import { emitOnnx } from '../graph/onnx/emit.js';
import * as ops from '../graph/ops/index.js';
import { buildBert } from '../models/bert/builder.js';
import { createSession, tensor } from '../runtime/session.js';
import { loadBertOracle, relErr } from '../testing/oracle.js';
import { parsePeftConfig } from './config.js';
import { createPeft } from './create.js';
import type { PeftWeights } from './types.js';

const { manifest, config, T, prefixed, feeds: oracleFeeds } = loadBertOracle();
const toFixture = (ours: string) => ours.replace('.sa.', '.adapter.').replace('.pt.', '.prefix.');

it('SA + flat PT + LoRA via createPeft match the PyTorch oracle (logits, loss, gradients)', async () => {
  const c = manifest.config;
  const dims = { numLayers: config.numLayers, hidden: config.hiddenSize, numHeads: config.numHeads };
  const cfg = parsePeftConfig(
    {
      sa: manifest.bottleneck,
      pt: manifest.prefix,
      ptBottleneck: 0,
      lora: manifest.rank,
      loraAlpha: manifest.loraScale * manifest.rank,
    },
    dims.numLayers,
  );
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
  const m = buildBert({
    config,
    weights: prefixed('weight/'),
    seqLen: manifest.seq,
    numLabels: c['num_labels']!,
    trainable: (n) => n.startsWith('classifier'),
    hooks: peft.hooks,
    hiddenDropout: 0,
    attentionDropout: 0,
  });
  peft.assertBuilt();
  const labels = m.graph.input('labels', 'int64', ['batch']);
  const loss = ops.softmaxCrossEntropy(m.logits!, labels);
  const params = [...m.params, ...peft.params];
  const grads = gradients(loss, params);
  const model = emitOnnx({
    outputs: [['logits', m.logits!], ['loss', loss], ...params.map((p, i) => [`g${i}`, grads.get(p)!] as const)],
    paramInputs: params,
  });
  const s = await createSession(model, { threads: 1 });
  const feeds = oracleFeeds();
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
