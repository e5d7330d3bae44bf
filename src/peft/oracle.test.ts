/**
 * createPeft's serial adapter, flat prefix rows and LoRA q/v against the PyTorch oracle fixture
 * written by scripts/oracle/bert_oracle.py (case "hooks": the modules in both layers of a tiny
 * BERT with random non-zero weights): logits, loss and every PEFT + classifier gradient.
 * The fixture names its tensors `peft.layer.<l>.adapter.*` / `.prefix.*`; ours are `.sa.*` / `.pt.*`.
 * The module cases (our names) cover the parallel adapter, the prefix MLP, both serial-adapter
 * forms and their composition with the parallel adapter.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { gradients } from '../graph/autodiff.js';
import { emitOnnx } from '../graph/onnx/emit.js';
import * as ops from '../graph/ops/index.js';
import { buildBert } from '../models/bert/builder.js';
import { createSession, tensor } from '../runtime/session.js';
import { floorFor, loadBertOracle, relErr } from '../testing/oracle.js';
import { parsePeftConfig, type PeftConfig } from './config.js';
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
  const le = relErr(out['logits']!.data as Float32Array, T('hooks/logits').data);
  assert.ok(le < 1e-5, `logits: relative error ${le}`);
  const lossErr = Math.abs(Number(out['loss']!.data[0]) - T('hooks/loss').data[0]!);
  assert.ok(lossErr < 1e-6, `loss: error ${lossErr}`);
  params.forEach((p, i) => {
    const e = relErr(out[`g${i}`]!.data as Float32Array, T(`hooks/grad/${toFixture(p.name)}`).data, floorFor(p.name));
    assert.ok(e < 1e-4, `${p.name}: relative error ${e}`);
  });
});

const mods = manifest.modules;
const CASES: { key: string; what: string; peft: Record<string, unknown> }[] = [
  { key: 'pa', what: 'parallel adapter (scaling 4)', peft: { pa: mods.bottleneck } },
  { key: 'ptmlp', what: 'prefix-tuning through its shared MLP', peft: { pt: mods.prefix } },
  {
    key: 'sahoulsby_pa',
    what: 'serial adapter (houlsby) on top of the parallel adapter',
    peft: { sa: mods.bottleneck, pa: mods.bottleneck },
  },
  {
    key: 'sapfeiffer',
    what: 'serial adapter (pfeiffer: reads LN(h + x))',
    peft: { sa: mods.bottleneck, saForm: 'pfeiffer' },
  },
  {
    key: 'sapfeiffer_pa',
    what: 'serial adapter (pfeiffer) summed in parallel with the parallel adapter',
    peft: { sa: mods.bottleneck, pa: mods.bottleneck, saForm: 'pfeiffer' },
  },
];

for (const { key, what, peft: raw } of CASES) {
  it(`${what} via createPeft matches the PyTorch oracle (case ${key}: logits, loss, gradients)`, async () => {
    const dims = { numLayers: config.numLayers, hidden: config.hiddenSize, numHeads: config.numHeads };
    const cfg: PeftConfig = parsePeftConfig(
      { ...raw, paScaling: mods.paScaling, ptBottleneck: mods.ptBottleneck },
      dims.numLayers,
    );
    const mw = prefixed('modweight/');
    const weights: PeftWeights = new Map();
    for (const n of createPeft(cfg, dims).names) {
      const t = mw.get(n);
      assert.ok(t, `fixture lacks ${n}`);
      weights.set(n, t);
    }
    const grads = prefixed(`${key}/grad/`);
    assert.equal(weights.size + 2, grads.size, 'the case trains exactly these modules + the classifier');
    const peft = createPeft(cfg, dims, { weights });
    const m = buildBert({
      config,
      weights: prefixed('weight/'),
      seqLen: manifest.seq,
      numLabels: manifest.config['num_labels']!,
      trainable: (n) => n.startsWith('classifier'),
      hooks: peft.hooks,
      hiddenDropout: 0,
      attentionDropout: 0,
    });
    peft.assertBuilt();
    const labels = m.graph.input('labels', 'int64', ['batch']);
    const loss = ops.softmaxCrossEntropy(m.logits!, labels);
    const params = [...m.params, ...peft.params];
    const g = gradients(loss, params);
    const model = emitOnnx({
      outputs: [['logits', m.logits!], ['loss', loss], ...params.map((p, i) => [`g${i}`, g.get(p)!] as const)],
      paramInputs: params,
    });
    const s = await createSession(model, { threads: 1 });
    const feeds = oracleFeeds();
    for (const p of params) feeds[p.name] = tensor('float32', m.graph.data.get(p) as Float32Array, p.shape as number[]);
    const out = await s.run(feeds);
    await s.release();
    const le = relErr(out['logits']!.data as Float32Array, T(`${key}/logits`).data);
    assert.ok(le < 1e-5, `logits: relative error ${le}`);
    const lossErr = Math.abs(Number(out['loss']!.data[0]) - T(`${key}/loss`).data[0]!);
    assert.ok(lossErr < 1e-6, `loss: error ${lossErr}`);
    params.forEach((p, i) => {
      const e = relErr(out[`g${i}`]!.data as Float32Array, grads.get(p.name)!.data, floorFor(p.name));
      assert.ok(e < 1e-4, `${p.name}: relative error ${e}`);
    });
  });
}
