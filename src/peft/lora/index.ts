/**
 * LoRA (Hu et al. 2021) on the query and value projections:
 *
 *   out = W x + b + (x A^T B^T) * alpha / r      A [r, w], B [w, r], x [B, S, w]
 *
 * w = the layer's attention width (`attentionWidth(dims, l)`: H for BERT/RoBERTa; USE-lite's
 * layer 0 attends at 256 while H = 512).
 *
 * NOTE (init): as Hugging Face peft: A ~ Kaiming-uniform(a=sqrt(5)) = U(-1/sqrt(w), 1/sqrt(w)),
 * B = 0, so the update is 0 at step 0 (no-op). Rank r = cfg.lora, alpha = options.loraAlpha.
 * At export the update can be merged: W' = W + (alpha / r) B A (`mergeLoraWeight`).
 */
import { add, matmul, mul } from '../../graph/ops/index.js';
import { kaimingUniformBound } from '../init.js';
import { registerPeftMethod } from '../registry.js';
import { activeLayers, attentionWidth, layerTensorName, type PeftMethod, type TensorSpec } from '../types.js';

export const LORA_TARGETS = ['query', 'value'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** A [r, w] and B [w, r] of one projection; w = the layer's attention width. */
export function loraSpecs(layer: number, target: LoraTarget, r: number, w: number): [TensorSpec, TensorSpec] {
  return [
    {
      name: layerTensorName(layer, 'lora', `${target}.A`),
      shape: [r, w],
      init: { kind: 'uniform', bound: kaimingUniformBound(w) },
    },
    { name: layerTensorName(layer, 'lora', `${target}.B`), shape: [w, r], init: { kind: 'zeros' } },
  ];
}

export const loraScale = (alpha: number, r: number): number => alpha / r;

/**
 * W' = W + scale * B A, all row-major: W [out=H, in=H], B [H, r], A [r, H] (H: the projection's
 * width, the layer's attention width). Accumulates in float64.
 * Returns a new Float32Array (W is not modified).
 */
export function mergeLoraWeight(
  W: Float32Array,
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  H: number,
  r: number,
  scale: number,
): Float32Array {
  if (W.length !== H * H || A.length !== r * H || B.length !== H * r)
    throw new Error(`mergeLoraWeight: shapes do not match H=${H}, r=${r}`);
  const out = new Float32Array(H * H);
  for (let o = 0; o < H; o++) {
    for (let i = 0; i < H; i++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += B[o * r + k]! * A[k * H + i]!;
      out[o * H + i] = W[o * H + i]! + scale * s;
    }
  }
  return out;
}

export const lora: PeftMethod = {
  id: 'lora',
  title: 'LoRA (query, value)',
  order: 30,
  tensors: (cfg, dims) =>
    cfg.lora > 0
      ? activeLayers(cfg).flatMap((l) =>
          LORA_TARGETS.flatMap((t) => loraSpecs(l, t, cfg.lora, attentionWidth(dims, l))),
        )
      : [],
  // A and B for q and v: 2 * (r*w + w*r), w = the layer's attention width.
  paperCountPerLayer: (r, _H, w) => 4 * w * r,
  projection: (ctx, m) => {
    if (ctx.name === 'key') return ctx.output;
    const w = attentionWidth(m.dims, ctx.layer);
    const got = ctx.input.shape.at(-1);
    if (typeof got === 'number' && got !== w) {
      throw new Error(
        `LoRA: layer ${ctx.layer}'s ${ctx.name} projection is ${got} wide but BackboneDims gives attention width ${w}; pass the backbone's own dims (attentionWidths) to createPeft`,
      );
    }
    const [sa, sb] = loraSpecs(ctx.layer, ctx.name, m.size, w);
    const A = m.tensor(ctx.graph, sa);
    const B = m.tensor(ctx.graph, sb);
    const upd = matmul(matmul(ctx.input, A, { transB: true }), B, { transB: true });
    return add(ctx.output, mul(upd, loraScale(m.cfg.options.loraAlpha, m.size)));
  },
};

registerPeftMethod(lora);
