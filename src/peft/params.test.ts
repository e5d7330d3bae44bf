/** Parameter accounting: the paper formula (the one param-% function) vs its closed form, vs the exact counts. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseEncoderConfig } from '../models/config.js';
import { encoderWeightShapes } from '../models/io/weights.js';
import { Rng } from '../testing/random.js';
import { parsePeftConfig, type PeftConfig } from './config.js';
import {
  backboneParamCount,
  exactPeftParamCount,
  headParamCount,
  inferencePeftParamCount,
  paperParamCount,
  paperParamPct,
  peftParamCounts,
} from './params.js';
import { buildTiny, CASES, caseConfig, TINY_DIMS, tinyWeights } from './testing.js';
import { activeLayers } from './types.js';

describe('parameter accounting', () => {
  // The closed form written out once more here, independently of the method registry.
  const closedForm = (cfg: PeftConfig, H: number, widths: readonly number[], backbone: number): number => {
    let n = 0;
    cfg.layers.forEach((on, l) => {
      if (on) n += 2 * H * cfg.sa + 2 * H * cfg.pa + 2 * widths[l]! * cfg.pt + 4 * widths[l]! * cfg.lora;
    });
    return (100 * n) / backbone;
  };

  it('paperParamPct is the closed form 2·H·D_sa + 2·H·D_pa + 2·w_l·L_pt + 4·w_l·r per active layer (random configs)', () => {
    const rng = new Rng(5);
    const sizes = [0, 1, 2, 3, 6, 12, 24, 48, 96, 192, 384, 768];
    for (let i = 0; i < 300; i++) {
      const L = 1 + rng.int(24);
      const layers = Array.from({ length: L }, () => rng.next() < 0.5);
      const cfg = parsePeftConfig(
        {
          layers,
          sa: sizes[rng.int(sizes.length)],
          pa: sizes[rng.int(sizes.length)],
          pt: sizes[rng.int(sizes.length)],
          lora: [0, 1, 2, 4, 8][rng.int(5)],
        },
        L,
      );
      const backboneParams = 1e6 + rng.int(1e8);
      const H = [128, 512, 768][rng.int(3)]!;
      // Narrower attention in some layers (USE-lite's layer 0 is 256 on a 512 stream).
      const attentionWidths = Array.from({ length: L }, () => [H / 2, H][rng.int(2)]!);
      const want = closedForm(cfg, H, attentionWidths, backboneParams);
      const got = paperParamPct(cfg, { hidden: H, attentionWidths }, backboneParams);
      assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, want), `${JSON.stringify(cfg)} H ${H}: ${got} vs ${want}`);
      // Widths equal to H everywhere = the default (a bare hidden size).
      assert.equal(
        paperParamPct(cfg, { hidden: H, attentionWidths: Array(L).fill(H) }, backboneParams),
        paperParamPct(cfg, H, backboneParams),
      );
      const dims = { numLayers: L, hidden: H, numHeads: 4, attentionWidths };
      assert.equal(
        peftParamCounts(cfg, dims, { backboneParams, headParams: 0 }).paperPct,
        paperParamPct(cfg, dims, backboneParams),
      );
    }
  });

  it('options do not change the paper count (the PT MLP and LoRA alpha are not counted)', () => {
    const a = parsePeftConfig({ pt: 8, lora: 4, pa: 2 }, 3);
    const b = parsePeftConfig({ pt: 8, lora: 4, pa: 2, ptBottleneck: 0, loraAlpha: 64, paScaling: 1 }, 3);
    assert.equal(paperParamPct(a, 64, 1e6), paperParamPct(b, 64, 1e6));
  });

  for (const c of CASES) {
    it(`${c.name}: exact count = the elements of the params createPeft builds; relation to the formula`, () => {
      const cfg = caseConfig(c.raw);
      const b = buildTiny(cfg);
      const built = b.peft.params.reduce((s, p) => s + (p.size ?? NaN), 0);
      assert.equal(exactPeftParamCount(cfg, TINY_DIMS), built);
      const H = TINY_DIMS.hidden;
      const nA = activeLayers(cfg).length;
      const bias = nA * ((cfg.sa > 0 ? cfg.sa + H : 0) + (cfg.pa > 0 ? cfg.pa + H : 0));
      const P = cfg.options.ptBottleneck;
      // The PT MLP replaces the 2·H·L rows in the training form (when P > 0).
      const ptMlp =
        cfg.pt > 0 && P > 0 ? cfg.pt * H + P * H + P + nA * 2 * H * P + nA * 2 * H - nA * 2 * H * cfg.pt : 0;
      assert.equal(built, paperParamCount(cfg, H) + bias + ptMlp);
      // Inference form: biases remain, the MLP folds into exactly the formula's rows.
      assert.equal(inferencePeftParamCount(cfg, TINY_DIMS), paperParamCount(cfg, H) + bias);
      // Head: what the graph made trainable besides PEFT.
      const head = b.m.params.reduce((s, p) => s + (p.size ?? NaN), 0);
      assert.equal(head, headParamCount(tinyWeights()));
      const counts = peftParamCounts(cfg, TINY_DIMS, {
        backboneParams: backboneParamCount(tinyWeights()),
        headParams: head,
      });
      assert.equal(counts.trainable, b.m.graph.paramCount());
    });
  }

  it('the docs/peft.md worked example at BERT-base dims', () => {
    const enc = parseEncoderConfig({
      model_type: 'bert',
      vocab_size: 30522,
      hidden_size: 768,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      intermediate_size: 3072,
      max_position_embeddings: 512,
      type_vocab_size: 2,
    });
    const { required, optional } = encoderWeightShapes(enc);
    const shapes = new Map(
      [...required, ...optional, ['classifier.weight', [2, 768]], ['classifier.bias', [2]]].map(([k, s]) => [
        k as string,
        { shape: s as number[] },
      ]),
    );
    const backbone = backboneParamCount(shapes);
    const head = headParamCount(shapes);
    assert.equal(backbone, 108_891_648);
    assert.equal(head, 592_130);
    const dims = { numLayers: 12, hidden: 768, numHeads: 12 };
    const sa = peftParamCounts(parsePeftConfig({ sa: 48 }, 12), dims, { backboneParams: backbone, headParams: head });
    assert.deepEqual([sa.paper, sa.peft, sa.inference, sa.trainable], [884_736, 894_528, 894_528, 1_486_658]);
    assert.equal(sa.paperPct.toFixed(4), '0.8125');
    const pt = peftParamCounts(parsePeftConfig({ pt: 8 }, 12), dims, { backboneParams: backbone, headParams: head });
    assert.deepEqual([pt.paper, pt.peft, pt.inference], [147_456, 15_385_376, 147_456]);
    const lora = peftParamCounts(parsePeftConfig({ lora: 8 }, 12), dims, {
      backboneParams: backbone,
      headParams: head,
    });
    assert.deepEqual([lora.paper, lora.peft], [294_912, 294_912]);
    const mixed = peftParamCounts(
      parsePeftConfig({ sa: 12, pa: 96, pt: 3, layers: [4, 5, 6, 7, 8, 9, 10, 11] }, 12),
      dims,
      { backboneParams: backbone, headParams: head },
    );
    assert.deepEqual([mixed.paper, mixed.peft, mixed.inference], [1_363_968, 11_800_448, 1_377_120]);
    assert.equal(mixed.paperPct.toFixed(4), '1.2526');
  });
});
