/**
 * Prefix-tuning (Li & Liang 2021) as adapter-transformers' PrefixTuning implements it: L extra
 * key and value rows per active layer, always attended (the backbone concatenates them in front
 * of the sequence's keys/values, see `BertHooks.prefix`).
 *
 * Reparameterisation (training form), ONE MLP shared by all active layers, as adapter-transformers
 * does (PrefixTuningPool creates one PrefixTuning per model whose control_trans outputs
 * n_layers * 2 * H columns, n_layers = the layers not left out):
 *
 *   E [L, H] (peft.pt.wte)  ->  tanh(E W1^T + b1) [L, P]  ->  KV = . W2^T + b2  [L, sum_k 2 w_k]
 *   active layer k (k-th in increasing order, attention width w_k, o_k = sum_{j<k} 2 w_j):
 *     key = KV[:, o_k : o_k + w_k], value = KV[:, o_k + w_k : o_k + 2 w_k]
 *
 * w_k = the layer's attention width (`attentionWidth(dims, l)`): H for BERT/RoBERTa, where this is
 * exactly adapter-transformers' layout (o_k = 2kH); USE-lite's layer 0 attends at 256 (H = 512).
 *
 * P = options.ptBottleneck (800 in the reference). Sharing gives the prefixes of different layers a
 * common low-rank-ish structure, which is what stabilises prefix training in Li & Liang.
 * With ptBottleneck = 0 the rows are direct params `peft.layer.<l>.pt.key|value` (adapter-
 * transformers' `flat=True`), initialised N(0, 1) as its torch.randn.
 *
 * NOTE (init): as PyTorch defaults: wte ~ N(0, 1) (nn.Embedding); W1, b1 ~ U(+-1/sqrt(H)),
 * W2, b2 ~ U(+-1/sqrt(P)) (nn.Linear).
 *
 * Inference form: the MLP folds away (`foldPrefix`): KV is computed once and stored as constant
 * rows `peft.layer.<l>.pt.key|value` [L, w_l].
 *
 * Prefix-tuning is NOT a no-op at init: the extra rows take softmax mass from the real tokens.
 */
import type { Graph, Value } from '../../graph/ir.js';
import * as ops from '../../graph/ops/index.js';
import { kaimingUniformBound } from '../init.js';
import { registerPeftMethod } from '../registry.js';
import {
  activeLayers,
  attentionWidth,
  layerTensorName,
  type MethodContext,
  type PeftMethod,
  type PeftTensor,
  type PeftWeights,
  type TensorSpec,
} from '../types.js';
import type { PeftConfig } from '../config.js';
import type { BackboneDims } from '../../models/types.js';

export const PT_WTE = 'peft.pt.wte';
export const PT_W1 = 'peft.pt.mlp.0.weight';
export const PT_B1 = 'peft.pt.mlp.0.bias';
export const PT_W2 = 'peft.pt.mlp.2.weight';
export const PT_B2 = 'peft.pt.mlp.2.bias';

/** The shared reparameterisation MLP's tensors (empty when off or ptBottleneck = 0). */
export function prefixMlpSpecs(cfg: PeftConfig, dims: BackboneDims): TensorSpec[] {
  const L = cfg.pt;
  const P = cfg.options.ptBottleneck;
  const nA = activeLayers(cfg).length;
  if (L === 0 || P === 0 || nA === 0) return [];
  const H = dims.hidden;
  const out = prefixColumns(cfg, dims).total;
  return [
    { name: PT_WTE, shape: [L, H], init: { kind: 'normal', std: 1 } },
    { name: PT_W1, shape: [P, H], init: { kind: 'uniform', bound: kaimingUniformBound(H) } },
    { name: PT_B1, shape: [P], init: { kind: 'uniform', bound: kaimingUniformBound(H) } },
    { name: PT_W2, shape: [out, P], init: { kind: 'uniform', bound: kaimingUniformBound(P) } },
    { name: PT_B2, shape: [out], init: { kind: 'uniform', bound: kaimingUniformBound(P) } },
  ];
}

/**
 * Where each active layer's rows sit in the shared MLP's output: layer l takes columns
 * [offset, offset + width) as keys and [offset + width, offset + 2 width) as values, offsets
 * running over the active layers in increasing order; `total` = sum of 2 * width.
 */
export function prefixColumns(
  cfg: PeftConfig,
  dims: BackboneDims,
): { layers: Map<number, { offset: number; width: number }>; total: number } {
  const layers = new Map<number, { offset: number; width: number }>();
  let total = 0;
  for (const l of activeLayers(cfg)) {
    const width = attentionWidth(dims, l);
    layers.set(l, { offset: total, width });
    total += 2 * width;
  }
  return { layers, total };
}

/** The inference-form rows of every active layer (also the direct params when ptBottleneck = 0). */
export function prefixRowSpecs(cfg: PeftConfig, dims: BackboneDims): TensorSpec[] {
  if (cfg.pt === 0) return [];
  return activeLayers(cfg).flatMap((l) =>
    (['key', 'value'] as const).map(
      (kv): TensorSpec => ({
        name: layerTensorName(l, 'pt', kv),
        shape: [cfg.pt, attentionWidth(dims, l)],
        init: { kind: 'normal', std: 1 },
      }),
    ),
  );
}

/**
 * Folds the MLP: KV = tanh(E W1^T + b1) W2^T + b2 (float64 accumulation), split per active layer.
 * E [L, H], W1 [P, H], b1 [P], W2 [sum 2w, P], b2 [sum 2w] -> per layer key, value [L, w_l] (Float32),
 * split at the offsets of `prefixColumns`.
 */
export function foldPrefix(weights: ReadonlyMap<string, PeftTensor>, cfg: PeftConfig, dims: BackboneDims): PeftWeights {
  const out: PeftWeights = new Map();
  const specs = prefixMlpSpecs(cfg, dims);
  if (specs.length === 0) return out;
  const get = (name: string): ArrayLike<number> => {
    const t = weights.get(name);
    if (!t) throw new Error(`foldPrefix: missing '${name}'`);
    return t.data;
  };
  const [E, W1, b1, W2, b2] = [PT_WTE, PT_W1, PT_B1, PT_W2, PT_B2].map(get) as [
    ArrayLike<number>,
    ArrayLike<number>,
    ArrayLike<number>,
    ArrayLike<number>,
    ArrayLike<number>,
  ];
  const L = cfg.pt;
  const P = cfg.options.ptBottleneck;
  const H = dims.hidden;
  const cols = prefixColumns(cfg, dims);
  const hid = new Float64Array(L * P);
  for (let t = 0; t < L; t++) {
    for (let p = 0; p < P; p++) {
      let s = b1[p]!;
      for (let i = 0; i < H; i++) s += E[t * H + i]! * W1[p * H + i]!;
      hid[t * P + p] = Math.tanh(s);
    }
  }
  for (const [l, { offset, width: w }] of cols.layers) {
    const key = new Float32Array(L * w);
    const value = new Float32Array(L * w);
    for (let t = 0; t < L; t++) {
      for (let c = 0; c < 2 * w; c++) {
        const col = offset + c;
        let s = b2[col]!;
        for (let p = 0; p < P; p++) s += hid[t * P + p]! * W2[col * P + p]!;
        if (c < w) key[t * w + c] = s;
        else value[t * w + c - w] = s;
      }
    }
    out.set(layerTensorName(l, 'pt', 'key'), { data: key, shape: [L, w] });
    out.set(layerTensorName(l, 'pt', 'value'), { data: value, shape: [L, w] });
  }
  return out;
}

// The MLP output of one build, shared by the layers' prefix hooks.
const mlpOutputs = new WeakMap<Graph, Value>();

function prefixRows(layer: number, graph: Graph, m: MethodContext): { key: Value; value: Value } {
  if (m.mode === 'frozen' || m.cfg.options.ptBottleneck === 0) {
    const [k, v] = prefixRowSpecs(m.cfg, m.dims).filter((s) => s.name.startsWith(`peft.layer.${layer}.pt.`)) as [
      TensorSpec,
      TensorSpec,
    ];
    return { key: m.tensor(graph, k), value: m.tensor(graph, v) };
  }
  let kv = mlpOutputs.get(graph);
  if (!kv) {
    const [E, W1, b1, W2, b2] = prefixMlpSpecs(m.cfg, m.dims).map((s) => m.tensor(graph, s)) as [
      Value,
      Value,
      Value,
      Value,
      Value,
    ];
    kv = ops.linear(ops.tanh(ops.linear(E, W1, b1)), W2, b2);
    mlpOutputs.set(graph, kv);
  }
  const at = prefixColumns(m.cfg, m.dims).layers.get(layer);
  if (!at) throw new Error(`prefix-tuning: layer ${layer} is not active`);
  const { offset: o, width: w } = at;
  return {
    key: ops.slice(kv, [o], [o + w], [1]),
    value: ops.slice(kv, [o + w], [o + 2 * w], [1]),
  };
}

export const prefixTuning: PeftMethod = {
  id: 'pt',
  title: 'prefix-tuning',
  order: 40,
  tensors: (cfg, dims) => (cfg.options.ptBottleneck === 0 ? prefixRowSpecs(cfg, dims) : prefixMlpSpecs(cfg, dims)),
  // Key + value rows: 2 * L * w, w = the layer's attention width (the MLP is not counted, as in the paper).
  paperCountPerLayer: (L, _H, w) => 2 * w * L,
  foldedTensors: prefixRowSpecs,
  // Flat rows, or weights that are already folded (no MLP present): nothing to fold.
  fold: (weights, cfg, dims) =>
    cfg.options.ptBottleneck === 0 || !weights.has(PT_WTE) ? new Map() : foldPrefix(weights, cfg, dims),
  prefix: (layer, graph, m) => prefixRows(layer, graph, m),
};

registerPeftMethod(prefixTuning);
