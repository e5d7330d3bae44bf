/** createPeft: documented inits, seeding, user errors; RoBERTa export with merged LoRA. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../graph/ir.js';
import { buildBert } from '../models/bert/builder.js';
import type { BertConfig } from '../models/bert/config.js';
import { randomBertWeights } from '../models/bert/random.js';
import { createSession } from '../runtime/session.js';
import { parsePeftConfig, PeftConfigError } from './config.js';
import { createPeft, foldPeftWeights, isHeadWeight, peftTensorSpecs } from './create.js';
import { bertExportBackbone } from '../models/bert/export.js';
import { exportMergedOnnx } from './export.js';
import { initTensor } from './init.js';
import { BATCH, buildTiny, caseConfig, evalLogits, maxAbsDiff, SEQ, TINY, TINY_DIMS, tinyFeeds } from './testing.js';
import type { PeftWeights } from './types.js';

const stats = (a: ArrayLike<number>) => {
  let s = 0;
  let s2 = 0;
  let mx = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]!;
    s2 += a[i]! * a[i]!;
    mx = Math.max(mx, Math.abs(a[i]!));
  }
  return { mean: s / a.length, std: Math.sqrt(s2 / a.length - (s / a.length) ** 2), maxAbs: mx };
};

describe('createPeft', () => {
  it('inits as documented: adapters/LoRA Kaiming-uniform down/A with zero up/B/biases; PT as PyTorch defaults', () => {
    const dims = { numLayers: 1, hidden: 256, numHeads: 4 };
    const cfg = parsePeftConfig({ sa: 64, pa: 64, lora: 32, pt: 16, ptBottleneck: 128 }, 1);
    const specs = new Map(peftTensorSpecs(cfg, dims).map((s) => [s.name, initTensor(s, 3)]));
    const uni = (name: string, bound: number) => {
      const st = stats(specs.get(name)!);
      assert.ok(st.maxAbs <= bound, `${name}: max ${st.maxAbs} > ${bound}`);
      assert.ok(
        Math.abs(st.std - bound / Math.sqrt(3)) < 0.05 * bound,
        `${name}: std ${st.std}, want ${bound / Math.sqrt(3)}`,
      );
    };
    for (const m of ['sa', 'pa']) {
      uni(`peft.layer.0.${m}.down.weight`, 1 / 16);
      for (const z of ['down.bias', 'up.weight', 'up.bias'])
        assert.equal(stats(specs.get(`peft.layer.0.${m}.${z}`)!).maxAbs, 0);
    }
    for (const t of ['query', 'value']) {
      uni(`peft.layer.0.lora.${t}.A`, 1 / 16);
      assert.equal(stats(specs.get(`peft.layer.0.lora.${t}.B`)!).maxAbs, 0);
    }
    const wte = stats(specs.get('peft.pt.wte')!);
    assert.ok(Math.abs(wte.std - 1) < 0.05 && Math.abs(wte.mean) < 0.05);
    uni('peft.pt.mlp.0.weight', 1 / 16);
    uni('peft.pt.mlp.2.weight', 1 / Math.sqrt(128));
    assert.deepEqual(specs.get('peft.pt.mlp.2.weight')!.length, 2 * 256 * 128);
  });

  it("a tensor's init depends on (seed, its name) only: adding a module leaves the others' init unchanged", () => {
    const ga = buildTiny(caseConfig({ lora: 2 }), { seed: 5 });
    const gb = buildTiny(caseConfig({ lora: 2, sa: 3, pt: 2 }), { seed: 5 });
    const gc = buildTiny(caseConfig({ lora: 2 }), { seed: 6 });
    const A = (x: typeof ga) => x.m.graph.data.get(x.peft.params.find((p) => p.name === 'peft.layer.1.lora.value.A')!);
    assert.deepEqual(A(ga), A(gb));
    assert.notDeepEqual(A(ga), A(gc));
  });

  it('user errors are one-line typed errors', () => {
    assert.throws(
      () => createPeft(parsePeftConfig({ sa: 2 }, 3), TINY_DIMS),
      (e: unknown) =>
        e instanceof PeftConfigError && /"layers" has 3 flags but the backbone has 2 layers/.test(e.message),
    );
    assert.throws(
      () => createPeft(caseConfig({ sa: 2 }), TINY_DIMS, { mode: 'frozen' }),
      /needs the saved PEFT weights/,
    );
    assert.throws(
      () => createPeft(caseConfig({ sa: 2 }), TINY_DIMS, { mode: 'frozen', weights: new Map() }),
      /missing 'peft\.layer\.0\.sa\.down\.weight'/,
    );
    const bad: PeftWeights = new Map([['peft.layer.0.sa.down.weight', { data: new Float32Array(6), shape: [3, 2] }]]);
    assert.throws(
      () => createPeft(caseConfig({ sa: 2 }), TINY_DIMS, { weights: bad }),
      /has shape \[3,2\], expected \[2,16\]/,
    );
    const extra: PeftWeights = new Map([['peft.layer.0.pa.up.bias', { data: new Float32Array(16), shape: [16] }]]);
    assert.throws(
      () => createPeft(caseConfig({ sa: 2 }), TINY_DIMS, { weights: extra }),
      /'peft\.layer\.0\.pa\.up\.bias' is not a tensor of this config \(SA2 @ all layers\)/,
    );
    // A no-op config needs no weights, even frozen.
    assert.deepEqual(createPeft(caseConfig({}), TINY_DIMS, { mode: 'frozen' }).hooks, {});
  });

  it('frozen mode accepts training-form or already-folded weights (same logits)', async () => {
    const cfg = caseConfig({ pt: 2, ptBottleneck: 6, sa: 2, layers: [1] });
    const b = buildTiny(cfg, { seed: 9 });
    const w: PeftWeights = new Map(
      b.peft.params.map((p) => [p.name, { data: b.m.graph.data.get(p) as Float32Array, shape: p.shape as number[] }]),
    );
    const folded = foldPeftWeights(cfg, TINY_DIMS, w);
    assert.deepEqual([...folded.keys()].sort(), [
      'peft.layer.1.pt.key',
      'peft.layer.1.pt.value',
      'peft.layer.1.sa.down.bias',
      'peft.layer.1.sa.down.weight',
      'peft.layer.1.sa.up.bias',
      'peft.layer.1.sa.up.weight',
    ]);
    const a = await evalLogits(buildTiny(cfg, { mode: 'frozen', weights: w }));
    const c = await evalLogits(buildTiny(cfg, { mode: 'frozen', weights: folded }));
    assert.deepEqual(a, c);
    assert.ok(maxAbsDiff(a, await evalLogits(b)) < 2e-5);
  });

  it('one Peft builds into one graph', () => {
    const cfg = caseConfig({ sa: 2 });
    const peft = createPeft(cfg, TINY_DIMS);
    const g1 = new Graph();
    const x = g1.constant(new Float32Array(2 * 16), [1, 2, 16]);
    peft.hooks.ffn!({ layer: 0, graph: g1, input: x, output: x });
    const g2 = new Graph();
    const y = g2.constant(new Float32Array(2 * 16), [1, 2, 16]);
    assert.throws(
      () => peft.hooks.ffn!({ layer: 0, graph: g2, input: y, output: y }),
      /already built into another graph/,
    );
    assert.throws(() => peft.assertBuilt(), /never created peft\.layer\.1\.sa/);
  });

  it('RoBERTa flavour: LoRA merged into roberta.* W_q/W_v, PT folded; exported logits = eval logits', async () => {
    const cfg: BertConfig = { ...TINY, flavour: 'roberta', typeVocabSize: 1, padTokenId: 1, maxPositions: SEQ + 2 };
    const weights = randomBertWeights(cfg, 2, 11, 0.2);
    const pc = caseConfig({ lora: 2, pt: 2, ptBottleneck: 4, layers: [0] });
    // Non-zero LoRA B (as after training) so the merge has something to merge.
    const B = (t: string): [string, { data: Float32Array; shape: number[] }] => [
      `peft.layer.0.lora.${t}.B`,
      { data: Float32Array.from({ length: 32 }, (_, i) => 0.1 * Math.sin(i + t.length)), shape: [16, 2] },
    ];
    const peft = createPeft(pc, TINY_DIMS, { seed: 1, weights: new Map([B('query'), B('value')]) });
    const m = buildBert({
      config: cfg,
      weights,
      seqLen: SEQ,
      numLabels: 2,
      hooks: peft.hooks,
      trainable: isHeadWeight,
      hiddenDropout: 0,
      attentionDropout: 0,
    });
    const feeds = tinyFeeds();
    delete feeds['token_type_ids'];
    const ref = await evalLogits({ m, peft, logits: m.logits! }, feeds);
    const trained: PeftWeights = new Map(
      peft.params.map((p) => [p.name, { data: m.graph.data.get(p) as Float32Array, shape: p.shape as number[] }]),
    );
    const model = await exportMergedOnnx(bertExportBackbone(cfg, weights, { seqLen: SEQ, numLabels: 2 }), {
      config: pc,
      weights: trained,
      headWeights: new Map(),
    });
    const s = await createSession(model, { threads: 1 });
    const got = (await s.run(feeds))['logits']!.data as Float32Array;
    await s.release();
    assert.equal(got.length, BATCH * 2);
    assert.ok(maxAbsDiff(got, ref) < 2e-5, `max |diff| ${maxAbsDiff(got, ref)}`);
    // LoRA B != 0 here, so merging really changed W_q: the merged model without LoRA differs from the backbone.
    const plain = createPeft(caseConfig({ pt: 2, ptBottleneck: 4, layers: [0] }), TINY_DIMS, {
      mode: 'frozen',
      weights: trained,
    });
    const m2 = buildBert({
      config: cfg,
      weights,
      seqLen: SEQ,
      numLabels: 2,
      hooks: plain.hooks,
      hiddenDropout: 0,
      attentionDropout: 0,
    });
    assert.ok(maxAbsDiff(await evalLogits({ m: m2, peft: plain, logits: m2.logits! }, feeds), ref) > 1e-4);
  });
});
