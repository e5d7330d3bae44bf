/**
 * USE-lite as a trainable `Backbone` (see ../backbone.ts): the IR encoder of ./graph.ts + PEFT
 * hooks + a fresh linear head on the sentence embedding, plus the pieces frozen-prefix caching
 * needs (layer-input programs, per-example rows, batch assembly). docs/use-lite-training.md.
 *
 * - backboneParams = every encoder weight (embeddings, both layers, the tanh layer): 6,975,744.
 * - head = `classifier.weight` [numLabels, 512] + `classifier.bias` on sqrt(512) * embedding, with
 *   dropout 0.1 on its input in training programs (the encoder has no dropout at all, as in
 *   inference: the TF-Hub module applies none).
 * - fullFineTune: every encoder weight but the embedding table is trainable.
 */
import type { PeftConfig } from '../../peft/config.js';
import type { ExportBackbone } from '../../peft/export.js';
import type { WeightMap } from '../bert/builder.js';
import { compileEval, type EvalProgram } from '../../runtime/eval.js';
import { tensor, type SessionConfig } from '../../runtime/session.js';
import type { Backbone, BackboneDims, BuildClassifierOptions, ClassifierGraph } from '../backbone.js';
import {
  allButUseLiteEmbeddings,
  buildUseLite,
  freshUseLiteHead,
  layerInputWidth,
  UseLiteBuildError,
  USE_LITE_HEAD,
  USE_LITE_INPUTS,
  USE_LITE_NAMES,
} from './graph.js';
import {
  loadUseLite,
  type Dense,
  type Norm,
  type UseLiteLayerParams,
  type UseLiteModel,
  type UseLiteParams,
} from './load.js';
import type { UseLiteTokenizer } from './tokenizer.js';

/** BackboneDims plus the per-layer attention widths (q/k/v and prefix rows: 256, 512). */
export interface UseLiteDims extends BackboneDims {
  readonly attentionWidths: readonly number[];
}

export interface UseLiteClassifierOptions extends BuildClassifierOptions {
  /**
   * Frozen-prefix caching: start at layer k from `hidden_in` [batch, seq, width_k] (the cached
   * input of layer k, see `UseLiteLayerCache`) instead of `input_ids`. No PEFT module may sit
   * below k (`cacheableLayer`), and not with fullFineTune.
   */
  fromLayer?: number;
}

/** Dropout ratio on the head input in training programs. */
export const USE_LITE_HEAD_DROPOUT = 0.1;

export class UseLiteBackbone implements Backbone {
  readonly kind = 'use-lite' as const;
  readonly dims: UseLiteDims;
  readonly backboneParams: number;
  readonly maxLength: number;
  readonly tokenizer: UseLiteTokenizer;

  constructor(
    readonly model: UseLiteModel,
    readonly id: string = 'use-lite',
  ) {
    const c = model.config;
    this.dims = {
      numLayers: c.layers,
      hidden: c.hidden,
      numHeads: c.heads,
      attentionWidths: model.params.layers.map((l) => l.inDim),
    };
    this.backboneParams = c.params;
    this.maxLength = c.maxLength;
    this.tokenizer = model.tokenizer;
  }

  headParams(numLabels: number): number {
    return numLabels * this.model.config.hidden + numLabels;
  }

  /** Width of the cached hidden states entering layer k (256 for k = 0, else 512). */
  layerWidth(k: number): number {
    return layerInputWidth(this.model.config, this.model.params, k);
  }

  buildClassifier(opts: UseLiteClassifierOptions): ClassifierGraph {
    const from = opts.fromLayer ?? 0;
    if (from > 0 && opts.fullFineTune)
      throw new UseLiteBuildError('fromLayer > 0 caches frozen layers; it cannot be combined with full fine-tuning');
    const built = buildUseLite({
      model: this.model,
      seqLen: opts.seqLen,
      hooks: opts.hooks,
      fromLayer: from,
      attentionHookWidth: 'native',
      trainable: opts.fullFineTune ? allButUseLiteEmbeddings : undefined,
      head: {
        numLabels: opts.numLabels,
        seed: opts.seed,
        weights: opts.headWeights,
        dropout: opts.dropout ? USE_LITE_HEAD_DROPOUT : 0,
      },
    });
    const inputNames = [from > 0 ? USE_LITE_INPUTS.hidden : USE_LITE_INPUTS.ids, USE_LITE_INPUTS.mask];
    // As the BERT backbone: every non-PEFT trainable (the head; plus the encoder when fully fine-tuned).
    return {
      graph: built.graph,
      logits: built.logits!,
      inputNames,
      headParams: [...built.encoderParams, ...built.headParams],
    };
  }

  /** Per-example cache of layer k's inputs (frozen-prefix caching; pair with buildClassifier({fromLayer: k})). */
  layerCache(k: number, cfg: SessionConfig & { batchSize?: number; seqBucket?: number } = {}): UseLiteLayerCache {
    return new UseLiteLayerCache(this, k, cfg);
  }

  exportBackbone(opts: { seqLen: number; numLabels: number }): ExportBackbone {
    return useLiteExportBackbone(this, opts);
  }

  /** A forward program [input_ids, attention_mask] -> the input of layer k, `hidden` [B, seqLen, width_k]. */
  async compileLayerInputs(seqLen: number, k: number, cfg: SessionConfig = {}): Promise<EvalProgram> {
    const built = buildUseLite({ model: this.model, seqLen, toLayer: k });
    return compileEval(built.graph, { hidden: built.hidden }, cfg);
  }
}

/** USE-lite from the installed npm package (or a directory with model.json, shards, vocab.json). */
export function loadUseLiteBackbone(dir?: string, id = 'use-lite'): UseLiteBackbone {
  return new UseLiteBackbone(loadUseLite(dir), id);
}

/**
 * The layer whose input can be cached for `cfg`: the lowest layer with a PEFT module (LoRA and
 * prefix rows act inside that layer's attention, adapters after its FFN: all above its input).
 * A no-op config caches everything (numLayers: only the head trains). No config (the head-only
 * run has a no-op config, not none) or full fine-tuning: 0, nothing cached.
 */
export function cacheableLayer(cfg: PeftConfig | undefined, fullFineTune = false): number {
  if (fullFineTune || !cfg) return 0;
  const on = cfg.sa > 0 || cfg.pa > 0 || cfg.pt > 0 || cfg.lora > 0;
  if (!on) return cfg.layers.length;
  const k = cfg.layers.indexOf(true);
  return k < 0 ? cfg.layers.length : k;
}

/**
 * Per-example cache of layer-k inputs. The encoder below k has no dropout and no trainable
 * weight, so each example's rows are computed once (in length-sorted batches, so padding is small)
 * and every later batch is assembled from them: exact up to float rounding of the batch shape.
 */
export class UseLiteLayerCache {
  private readonly programs = new Map<number, EvalProgram>();

  constructor(
    readonly backbone: UseLiteBackbone,
    /** Layer whose input is cached (1..numLayers; 0 would cache only the embedding lookup). */
    readonly layer: number,
    private readonly cfg: SessionConfig & { batchSize?: number; seqBucket?: number } = {},
  ) {
    if (!Number.isInteger(layer) || layer < 0 || layer > backbone.dims.numLayers) {
      throw new UseLiteBuildError(`cache layer ${layer} is outside 0..${backbone.dims.numLayers}`);
    }
  }

  get width(): number {
    return this.backbone.layerWidth(this.layer);
  }

  /** Rows of each token-id list: `T_i x width` (T_i = its length, clipped to maxLength). */
  async compute(ids: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const w = this.width;
    const max = this.backbone.maxLength;
    const bs = this.cfg.batchSize ?? 64;
    const bucket = this.cfg.seqBucket ?? 16;
    const order = ids.map((_, i) => i).sort((a, b) => ids[a].length - ids[b].length);
    const out: Float32Array[] = new Array(ids.length);
    for (let s = 0; s < order.length; s += bs) {
      const part = order.slice(s, s + bs);
      const longest = Math.max(1, ...part.map((i) => Math.min(ids[i].length, max)));
      const S = Math.min(max, Math.ceil(longest / bucket) * bucket);
      const B = part.length;
      const inputIds = new BigInt64Array(B * S).fill(BigInt(this.backbone.tokenizer.padId));
      const mask = new BigInt64Array(B * S);
      part.forEach((ex, b) => {
        const row = ids[ex];
        const T = Math.min(row.length, max);
        for (let t = 0; t < T; t++) {
          inputIds[b * S + t] = BigInt(row[t]);
          mask[b * S + t] = 1n;
        }
      });
      let prog = this.programs.get(S);
      if (!prog) {
        prog = await this.backbone.compileLayerInputs(S, this.layer, this.cfg);
        this.programs.set(S, prog);
      }
      const res = await prog.run({
        [USE_LITE_INPUTS.ids]: tensor('int64', inputIds, [B, S]),
        [USE_LITE_INPUTS.mask]: tensor('int64', mask, [B, S]),
      });
      const h = res.hidden.data as Float32Array;
      part.forEach((ex, b) => {
        const T = Math.min(ids[ex].length, max);
        out[ex] = h.slice(b * S * w, (b * S + T) * w);
      });
    }
    return out;
  }

  /** `hidden_in` data for one batch of cached rows (`[rows.length, seqLen, width]`). */
  assemble(rows: readonly Float32Array[], seqLen: number): Float32Array {
    return UseLiteLayerCache.assemble(rows, seqLen, this.width);
  }

  /** `hidden_in` for one batch: rows[i] (`T_i x width`) at batch row i, zeros at padding. */
  static assemble(rows: readonly Float32Array[], seqLen: number, width: number): Float32Array {
    const out = new Float32Array(rows.length * seqLen * width);
    rows.forEach((r, b) => {
      if (r.length > seqLen * width)
        throw new UseLiteBuildError(
          `cached row ${b} has ${r.length / width} tokens, more than the batch length ${seqLen}`,
        );
      out.set(r, b * seqLen * width);
    });
    return out;
  }

  async release(): Promise<void> {
    for (const p of this.programs.values()) await p.release();
    this.programs.clear();
  }
}

type Tensor = { data: Float32Array; shape: readonly number[] };

/** Virtual `[w_l, w_l]` (PyTorch `[out, in]`) query/value weights for LoRA merging: `use_lite.layer.<l>.<query|value>.weight`. */
export const useLiteProjectionName = (l: number, t: 'query' | 'value'): string => `use_lite.layer.${l}.${t}.weight`;

/**
 * The frozen encoder + a head as the PEFT export's `ExportBackbone` (src/peft/export.ts).
 *
 * Weights are the encoder tensors under USE_LITE_NAMES, `classifier.*`, and for LoRA merging a
 * virtual `[w, w]` `[out, in]` matrix per query/value projection (w = the layer's attention width,
 * `bb.dims.attentionWidths`: 256 in layer 0, 512 in layer 1): the transposed slice of the packed
 * q|k|v kernel. `build` writes those matrices back into the packed kernel; the hooks see the
 * native widths, as in training.
 */
export function useLiteExportBackbone(
  bb: UseLiteBackbone,
  opts: { seqLen: number; numLabels: number },
): ExportBackbone {
  const { params, config } = bb.model;
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
  for (const [n, t] of freshUseLiteHead(opts.numLabels, H, 0)) put(n, t.data, t.shape);

  const build = (w: WeightMap, hooks: Parameters<ExportBackbone['build']>[1]) => {
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
    const head = new Map(
      [USE_LITE_HEAD.weight, USE_LITE_HEAD.bias].map(
        (n) => [n, { data: get(n, n === USE_LITE_HEAD.weight ? opts.numLabels * H : opts.numLabels) }] as const,
      ),
    );
    const built = buildUseLite({
      model: { params: merged, config },
      seqLen: opts.seqLen,
      hooks,
      attentionHookWidth: 'native',
      head: { numLabels: opts.numLabels, weights: head, trainable: false },
    });
    return { graph: built.graph, logits: built.logits! };
  };
  return { dims: bb.dims, weights, projectionWeightName: useLiteProjectionName, build };
}
