/** Parameter accounting: the paper formula vs the search room's paramPct, vs the exact counts. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseEncoderConfig } from '../models/config.js';
import { encoderWeightShapes } from '../models/io/weights.js';
import { paramPct } from '../search/space/autopeft.js';
import { Rng } from '../testing/random.js';
import { parsePeftConfig, toSearchConfig } from './config.js';
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
  it("paper formula % equals the search room's paramPct (random configs, with LoRA)", () => {
    const rng = new Rng(5);
    const sizes = [0, 1, 3, 6, 12, 24, 48, 96, 192, 384, 768];
    for (let i = 0; i < 200; i++) {
      const L = 1 + rng.int(24);
      const layers = Array.from({ length: L }, () => rng.next() < 0.5);
      const cfg = parsePeftConfig(
        {
          layers,
          sa: sizes[rng.int(11)],
          pa: sizes[rng.int(11)],
          pt: sizes[rng.int(11)],
          lora: [0, 1, 2, 4, 8][rng.int(5)],
        },
        L,
      );
      const backboneParams = 1e6 + rng.int(1e8);
      const want = paramPct(toSearchConfig(cfg), { numLayers: L, hidden: 768, backboneParams });
      assert.ok(
        Math.abs(paperParamPct(cfg, 768, backboneParams) - want) <= 1e-12 * Math.max(1, want),
        `${JSON.stringify(cfg)}`,
      );
      // Default widths given explicitly: the same numbers.
      assert.equal(
        paperParamPct(cfg, { hidden: 768, attentionWidths: Array(L).fill(768) }, backboneParams),
        paperParamPct(cfg, 768, backboneParams),
      );
    }
  });

  it('with per-layer attention widths, paper formula % equals paramPct given the same widths (random configs)', () => {
    const rng = new Rng(6);
    const sizes = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
    for (let i = 0; i < 200; i++) {
      const L = 1 + rng.int(6);
      const layers = Array.from({ length: L }, () => rng.next() < 0.5);
      const attentionWidths = Array.from({ length: L }, () => [128, 256, 512][rng.int(3)]!);
      const cfg = parsePeftConfig(
        {
          layers,
          sa: sizes[rng.int(11)],
          pa: sizes[rng.int(11)],
          pt: sizes[rng.int(11)],
          lora: [0, 1, 2, 4, 8][rng.int(5)],
        },
        L,
      );
      const backboneParams = 1e6 + rng.int(1e7);
      const want = paramPct(toSearchConfig(cfg), { numLayers: L, hidden: 512, backboneParams, attentionWidths });
      const dims = { numLayers: L, hidden: 512, numHeads: 4, attentionWidths };
      assert.ok(
        Math.abs(paperParamPct(cfg, dims, backboneParams) - want) <= 1e-12 * Math.max(1, want),
        `${JSON.stringify(cfg)} widths ${attentionWidths}`,
      );
      assert.equal(
        peftParamCounts(cfg, dims, { backboneParams, headParams: 0 }).paperPct,
        paperParamPct(cfg, dims, backboneParams),
      );
    }
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
