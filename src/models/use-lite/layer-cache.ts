/** USE-lite's frozen-prefix caching capability (`UseLiteBackbone.layerCache`). docs/use-lite-training.md. */
import { compileEval, type EvalProgram } from '../../runtime/eval.js';
import { tensor, type SessionConfig } from '../../runtime/session.js';
import type { LayerCache, LayerCacheOptions } from '../types.js';
import { buildUseLite, layerInputWidth, UseLiteBuildError, USE_LITE_INPUTS } from './graph.js';
import type { UseLiteModel } from './load.js';

/** A forward program [input_ids, attention_mask] -> the input of layer k, `hidden` [B, seqLen, width_k]. */
export async function compileLayerInputs(
  model: UseLiteModel,
  seqLen: number,
  k: number,
  cfg: SessionConfig = {},
): Promise<EvalProgram> {
  const built = buildUseLite({ model, seqLen, toLayer: k });
  return compileEval(built.graph, { hidden: built.hidden }, cfg);
}

/**
 * Per-example cache of layer-k inputs. The encoder below k has no dropout and no trainable
 * weight, so each example's rows are computed once (in length-sorted batches, so padding is small)
 * and every later batch is assembled from them: exact up to float rounding of the batch shape.
 */
export class UseLiteLayerCache implements LayerCache {
  private readonly programs = new Map<number, EvalProgram>();

  constructor(
    readonly model: UseLiteModel,
    /** Layer whose input is cached (1..numLayers; 0 would cache only the embedding lookup). */
    readonly layer: number,
    private readonly cfg: LayerCacheOptions = {},
  ) {
    const L = model.config.layers;
    if (!Number.isInteger(layer) || layer < 0 || layer > L) {
      throw new UseLiteBuildError(`cache layer ${layer} is outside 0..${L}`);
    }
  }

  /** Width of the cached hidden states entering the layer (256 for k = 0, else 512). */
  get width(): number {
    return layerInputWidth(this.model.config, this.model.params, this.layer);
  }

  /** Rows of each token-id list: `T_i x width` (T_i = its length, clipped to maxLength). */
  async compute(ids: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const w = this.width;
    const max = this.model.config.maxLength;
    const bs = this.cfg.batchSize ?? 64;
    const bucket = this.cfg.seqBucket ?? 16;
    const order = ids.map((_, i) => i).sort((a, b) => ids[a].length - ids[b].length);
    const out: Float32Array[] = new Array(ids.length);
    for (let s = 0; s < order.length; s += bs) {
      const part = order.slice(s, s + bs);
      const longest = Math.max(1, ...part.map((i) => Math.min(ids[i].length, max)));
      const S = Math.min(max, Math.ceil(longest / bucket) * bucket);
      const B = part.length;
      const inputIds = new BigInt64Array(B * S).fill(BigInt(this.model.tokenizer.padId));
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
        prog = await compileLayerInputs(this.model, S, this.layer, this.cfg);
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
