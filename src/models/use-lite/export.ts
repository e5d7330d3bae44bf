/** USE-lite's merged-export capability (`UseLiteBackbone.exportBackbone`). docs/use-lite-training.md. */
import type { EncoderHooks, ExportBackbone, ExportBackboneOptions, WeightMap } from '../types.js';
import {
  buildUseLite,
  freshUseLiteHead,
  freshUseLitePairHead,
  UseLiteBuildError,
  USE_LITE_NAMES,
  useLiteDims,
} from './graph.js';
import type { Dense, Norm, UseLiteLayerParams, UseLiteModel, UseLiteParams } from './load.js';

type Tensor = { data: Float32Array; shape: readonly number[] };

/** Virtual `[w_l, w_l]` (PyTorch `[out, in]`) query/value weights for LoRA merging: `use_lite.layer.<l>.<query|value>.weight`. */
export const useLiteProjectionName = (l: number, t: 'query' | 'value'): string => `use_lite.layer.${l}.${t}.weight`;

/**
 * The frozen encoder + a head as a merged export takes it (`ExportBackbone`, ../types.ts).
 *
 * Weights are the encoder tensors under USE_LITE_NAMES, `classifier.*`, and for LoRA merging a
 * virtual `[w, w]` `[out, in]` matrix per query/value projection (w = the layer's attention width,
 * `useLiteDims(model).attentionWidths`: 256 in layer 0, 512 in layer 1): the transposed slice of
 * the packed q|k|v kernel. `build` writes those matrices back into the packed kernel; the hooks
 * see the native widths, as in training.
 *
 * `pairEncoding: 'siamese'` builds the two-input pair model (`input_ids`, `attention_mask`,
 * `input_ids_b`, `attention_mask_b`, all [batch, seqLen]: both texts padded to one length) with the
 * `pairHead` head tensors (`freshUseLitePairHead` shapes) in place of the single-text head.
 */
export function useLiteExportBackbone(model: UseLiteModel, opts: ExportBackboneOptions): ExportBackbone {
  const { params, config } = model;
  const H = config.hidden;
  const weights = new Map<string, Tensor>();
  const put = (name: string, data: Float32Array, shape: number[]) => weights.set(name, { data, shape });
  put(USE_LITE_NAMES.embeddings, params.embeddings, [config.vocabSize, config.embedDim]);
  const dense = (l: number, part: 'qkv' | 'out' | 'residual' | 'ffn1' | 'ffn2', d: Dense) => {
    put(USE_LITE_NAMES.layer(l, part, 'kernel'), d.kernel, [d.rows, d.cols]);
    put(USE_LITE_NAMES.layer(l, part, 'bias'), d.bias, [d.cols]);
  };
  const norm = (l: number, part: 'attn_norm' | 'ffn_norm', n: Norm, d: number) => {
    put(USE_LITE_NAMES.layer(l, part, 'scale'), n.scale, [d]);
    put(USE_LITE_NAMES.layer(l, part, 'bias'), n.bias, [d]);
  };
  params.layers.forEach((lp, l) => {
    norm(l, 'attn_norm', lp.attnNorm, lp.inDim);
    dense(l, 'qkv', lp.qkv);
    dense(l, 'out', lp.out);
    if (lp.residual) dense(l, 'residual', lp.residual);
    norm(l, 'ffn_norm', lp.ffnNorm, lp.outDim);
    dense(l, 'ffn1', lp.ffn1);
    dense(l, 'ffn2', lp.ffn2);
    const d = lp.inDim;
    (['query', 'value'] as const).forEach((t) => {
      const off = t === 'query' ? 0 : 2 * d;
      const w = new Float32Array(d * d);
      for (let o = 0; o < d; o++) for (let i = 0; i < d; i++) w[o * d + i] = lp.qkv.kernel[i * 3 * d + off + o];
      put(useLiteProjectionName(l, t), w, [d, d]);
    });
  });
  put(USE_LITE_NAMES.pool('kernel'), params.pool.kernel, [params.pool.rows, params.pool.cols]);
  put(USE_LITE_NAMES.pool('bias'), params.pool.bias, [params.pool.cols]);
  const siamese = opts.pairEncoding === 'siamese';
  const pairHead = opts.pairHead ?? 'linear';
  const freshHead = siamese
    ? freshUseLitePairHead(pairHead, opts.numLabels, H, 0)
    : freshUseLiteHead(opts.numLabels, H, 0);
  for (const [n, t] of freshHead) put(n, t.data, t.shape);

  const build = (w: WeightMap, hooks: EncoderHooks) => {
    const get = (name: string, size: number): Float32Array => {
      const t = w.get(name);
      if (!t || t.data.length !== size)
        throw new UseLiteBuildError(
          `export: weight '${name}' is missing or has ${t?.data.length} values (expected ${size})`,
        );
      return t.data;
    };
    const dn = (l: number, part: 'out' | 'residual' | 'ffn1' | 'ffn2', d: Dense): Dense => ({
      ...d,
      kernel: get(USE_LITE_NAMES.layer(l, part, 'kernel'), d.rows * d.cols),
      bias: get(USE_LITE_NAMES.layer(l, part, 'bias'), d.cols),
    });
    const nm = (l: number, part: 'attn_norm' | 'ffn_norm', n: Norm): Norm => ({
      scale: get(USE_LITE_NAMES.layer(l, part, 'scale'), n.scale.length),
      bias: get(USE_LITE_NAMES.layer(l, part, 'bias'), n.bias.length),
    });
    const layers = params.layers.map((lp, l): UseLiteLayerParams => {
      const d = lp.inDim;
      const kernel = get(USE_LITE_NAMES.layer(l, 'qkv', 'kernel'), d * 3 * d).slice();
      (['query', 'value'] as const).forEach((t) => {
        const off = t === 'query' ? 0 : 2 * d;
        const m = get(useLiteProjectionName(l, t), d * d);
        for (let o = 0; o < d; o++) for (let i = 0; i < d; i++) kernel[i * 3 * d + off + o] = m[o * d + i];
      });
      return {
        ...lp,
        attnNorm: nm(l, 'attn_norm', lp.attnNorm),
        qkv: { ...lp.qkv, kernel, bias: get(USE_LITE_NAMES.layer(l, 'qkv', 'bias'), 3 * d) },
        out: dn(l, 'out', lp.out),
        residual: lp.residual ? dn(l, 'residual', lp.residual) : null,
        ffnNorm: nm(l, 'ffn_norm', lp.ffnNorm),
        ffn1: dn(l, 'ffn1', lp.ffn1),
        ffn2: dn(l, 'ffn2', lp.ffn2),
      };
    });
    const merged: UseLiteParams = {
      embeddings: get(USE_LITE_NAMES.embeddings, params.embeddings.length),
      invTimescales: params.invTimescales,
      layers,
      pool: {
        ...params.pool,
        kernel: get(USE_LITE_NAMES.pool('kernel'), H * H),
        bias: get(USE_LITE_NAMES.pool('bias'), H),
      },
    };
    const head = new Map([...freshHead].map(([n, t]) => [n, { data: get(n, t.data.length) }] as const));
    const built = buildUseLite({
      model: { params: merged, config },
      seqLen: opts.seqLen,
      hooks,
      attentionHookWidth: 'native',
      siamese,
      head: { numLabels: opts.numLabels, weights: head, trainable: false, ...(siamese ? { pairHead } : {}) },
    });
    return { graph: built.graph, logits: built.logits! };
  };
  return { dims: useLiteDims(model), weights, projectionWeightName: useLiteProjectionName, build };
}
