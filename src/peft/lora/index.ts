/**
 * LoRA (Hu et al. 2021) on the query and value projections:
 *
 *   out = W x + b + (x A^T B^T) * alpha / r      A [r, H], B [H, r], x [B, S, H]
 *
 * NOTE (init): as Hugging Face peft: A ~ Kaiming-uniform(a=sqrt(5)) = U(-1/sqrt(H), 1/sqrt(H)),
 * B = 0, so the update is 0 at step 0 (no-op). Rank r = cfg.lora, alpha = options.loraAlpha.
 * At export the update can be merged: W' = W + (alpha / r) B A (`mergeLoraWeight`).
 */
import { add, matmul, mul } from '../../graph/ops/index.js';
import { kaimingUniformBound } from '../init.js';
import { registerPeftMethod } from '../registry.js';
import { activeLayers, layerTensorName, type PeftMethod, type TensorSpec } from '../types.js';

export const LORA_TARGETS = ['query', 'value'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export function loraSpecs(layer: number, target: LoraTarget, r: number, H: number): [TensorSpec, TensorSpec] {
  return [
    { name: layerTensorName(layer, 'lora', `${target}.A`), shape: [r, H], init: { kind: 'uniform', bound: kaimingUniformBound(H) } },
    { name: layerTensorName(layer, 'lora', `${target}.B`), shape: [H, r], init: { kind: 'zeros' } },
  ];
}

export const loraScale = (alpha: number, r: number): number => alpha / r;

/**
 * W' = W + scale * B A, all row-major: W [out=H, in=H], B [H, r], A [r, H]. Accumulates in float64.
 * Returns a new Float32Array (W is not modified).
 */
export function mergeLoraWeight(W: Float32Array, A: ArrayLike<number>, B: ArrayLike<number>, H: number, r: number, scale: number): Float32Array {
  if (W.length !== H * H || A.length !== r * H || B.length !== H * r) throw new Error(`mergeLoraWeight: shapes do not match H=${H}, r=${r}`);
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
  tensors: (cfg, dims) => (cfg.lora > 0 ? activeLayers(cfg).flatMap((l) => LORA_TARGETS.flatMap((t) => loraSpecs(l, t, cfg.lora, dims.hidden))) : []),
  // A and B for q and v: 2 * (r*H + H*r).
  paperCountPerLayer: (r, H) => 4 * H * r,
  projection: (ctx, m) => {
    if (ctx.name === 'key') return ctx.output;
    const [sa, sb] = loraSpecs(ctx.layer, ctx.name, m.size, m.dims.hidden);
    const A = m.tensor(ctx.graph, sa);
    const B = m.tensor(ctx.graph, sb);
    const upd = matmul(matmul(ctx.input, A, { transB: true }), B, { transB: true });
    return add(ctx.output, mul(upd, loraScale(m.cfg.options.loraAlpha, m.size)));
  },
};

registerPeftMethod(lora);
