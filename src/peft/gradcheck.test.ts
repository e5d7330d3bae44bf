/**
 * Gradients of every PEFT module's params against central finite differences:
 * - module level in float64 (the hook fragments alone, input gradients included), tight;
 * - through the whole tiny BERT in float32 (ORT has no float64 LayerNormalization kernel).
 * PEFT weights are random and non-zero here: at the no-op init (up = 0, B = 0) the down/A
 * gradients are exactly zero and would pass trivially.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph, Value } from '../graph/ir.js';
import * as ops from '../graph/ops/index.js';
import { buildBert } from '../models/bert/builder.js';
import { gradcheck, randParam } from '../testing/gradcheck.js';
import type { Rng } from '../testing/random.js';
import { parsePeftConfig } from './config.js';
import { createPeft, peftTensorSpecs } from './create.js';
import { BATCH, CASES, caseConfig, LABELS, SEQ, TINY, TINY_DIMS, tinyFeeds, tinyWeights } from './testing.js';
import type { BackboneDims } from '../models/types.js';
import { shapeSize, type PeftWeights } from './types.js';
import type { PeftConfig } from './config.js';

function randomWeights(cfg: PeftConfig, dims: BackboneDims, rng: Rng, std: number): PeftWeights {
  return new Map(
    peftTensorSpecs(cfg, dims).map((s) => [s.name, { data: rng.float64(shapeSize(s.shape), std), shape: s.shape }]),
  );
}

const SEED = 7;

/** Adapter down-projections small (std 0.05) with biases +-1: pre-activations stay far from the kink. */
function awayFromKinks(w: PeftWeights, rng: Rng): PeftWeights {
  for (const [n, t] of w) {
    if (n.endsWith('.down.weight')) t.data = rng.float64(t.data.length, 0.05);
    if (n.endsWith('.down.bias')) t.data = Float64Array.from(t.data, (_, i) => (i % 2 === 0 ? 1 : -1));
  }
  return w;
}
const MODULE_DIMS: BackboneDims = { numLayers: 1, hidden: 6, numHeads: 2 };
const MODULE_CASES: Array<{ name: string; raw: Record<string, unknown> }> = [
  { name: 'serial adapter', raw: { sa: 3 } },
  { name: 'parallel adapter', raw: { pa: 2, paScaling: 4 } },
  { name: 'LoRA q/v', raw: { lora: 2, loraAlpha: 3 } },
  { name: 'prefix-tuning (MLP)', raw: { pt: 2, ptBottleneck: 5 } },
  { name: 'prefix-tuning (flat)', raw: { pt: 2, ptBottleneck: 0 } },
  { name: 'all four', raw: { sa: 2, pa: 2, lora: 1, pt: 1, ptBottleneck: 3 } },
];

describe('PEFT gradcheck', () => {
  for (const c of MODULE_CASES) {
    it(`module level, float64: ${c.name}`, async () => {
      const cfg = parsePeftConfig(c.raw, 1);
      const res = await gradcheck((g: Graph, dtype, rng) => {
        const peft = createPeft(cfg, MODULE_DIMS, {
          dtype: 'float64',
          weights: randomWeights(cfg, MODULE_DIMS, rng, 0.5),
        });
        const H = MODULE_DIMS.hidden;
        const xin = randParam(g, rng, 'x_in', dtype, [2, 3, H]);
        const xout = randParam(g, rng, 'x_out', dtype, [2, 3, H]);
        const outs: Value[] = [];
        if (peft.hooks.ffn) outs.push(peft.hooks.ffn({ layer: 0, graph: g, input: xin, output: xout }));
        if (peft.hooks.projection)
          for (const name of ['query', 'value'] as const)
            outs.push(peft.hooks.projection({ layer: 0, graph: g, name, input: xin, output: xout }));
        if (peft.hooks.prefix) {
          const kv = peft.hooks.prefix(0, g)!;
          outs.push(kv.key, kv.value);
        }
        peft.assertBuilt();
        // x_in feeds only PA (and LoRA's projection input); the serial adapter never reads it.
        // x_out feeds every FFN/projection fragment; a lone prefix reads neither.
        const usesIn = cfg.pa > 0 || cfg.lora > 0;
        const usesOut = cfg.sa > 0 || cfg.pa > 0 || cfg.lora > 0;
        return {
          out: ops.concat(
            outs.map((o) => ops.reshape(o, [-1])),
            0,
          ),
          wrt: [...(usesIn ? [xin] : []), ...(usesOut ? [xout] : []), ...peft.params],
        };
      });
      assert.deepEqual(res.failures, []);
      assert.ok(res.worst <= 1, `worst ${res.worst}`);
      assert.ok(res.checked > 0);
    });
  }

  for (const c of CASES) {
    it(`whole tiny BERT, float32: ${c.name}`, async () => {
      const cfg = caseConfig(c.raw);
      const backbone = tinyWeights();
      // NOTE: float32 with eps 1e-3: round-off in the loss (~1e-7 relative, loss O(1)) over 2 eps
      // is ~1e-4, truncation ~eps^2 ~1e-6. A ReLU pre-activation within ~eps of 0 makes the
      // central difference straddle the kink (an O(1e-2) error of the check, not of the
      // gradient: seen with plain random weights, gone at eps 3e-4). `awayFromKinks` keeps every
      // adapter pre-activation >~ 5 sigma from 0: half the units always on, half always off (so
      // both ReLU branches are still exercised); the float64 module checks above have no such issue.
      const res = await gradcheck(
        (g: Graph, _dtype, rng) => {
          const peft = createPeft(cfg, TINY_DIMS, {
            weights: awayFromKinks(randomWeights(cfg, TINY_DIMS, rng, 0.3), rng),
          });
          const m = buildBert({
            graph: g,
            config: TINY,
            weights: backbone,
            seqLen: SEQ,
            batch: BATCH,
            numLabels: LABELS,
            hooks: peft.hooks,
            hiddenDropout: 0,
            attentionDropout: 0,
          });
          peft.assertBuilt();
          return { out: m.logits!, wrt: [...peft.params], feeds: tinyFeeds() };
        },
        { dtype: 'float32', eps: 1e-3, atol: 1e-3, rtol: 1e-2, seed: SEED },
      );
      assert.deepEqual(res.failures, []);
      assert.ok(res.worst <= 1, `worst ${res.worst}`);
      console.log(
        `  ${c.name}: ${res.checked} entries, worst ratio ${res.worst.toFixed(3)}, max |err| ${res.maxAbsErr.toExponential(2)}`,
      );
    });
  }
});
