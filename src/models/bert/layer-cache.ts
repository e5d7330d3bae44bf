/**
 * BERT/RoBERTa's frozen-prefix caching capability (`BertBackbone.layerCache`): the input of layer
 * k, computed once per example by a forward-only program over the embeddings and layers 0..k-1.
 * It equals what the trained model sees only when dropout is off below k (`noDropoutBelow`,
 * `--frozen-dropout 0`): the trainer checks `frozenLayerDropout` before using it.
 */
import { compileEval, type EvalProgram } from '../../runtime/eval.js';
import { tensor } from '../../runtime/session.js';
import type { LayerCache, LayerCacheOptions, WeightMap } from '../types.js';
import { buildBert } from './builder.js';
import { BertConfigError, type BertConfig } from './config.js';

export class BertLayerCache implements LayerCache {
  private program: Promise<EvalProgram> | undefined;

  constructor(
    private readonly config: BertConfig,
    private readonly weights: WeightMap,
    /** Layer whose input is cached (0 = the embeddings' output). */
    readonly layer: number,
    private readonly padId: number,
    private readonly maxLength: number,
    private readonly cfg: LayerCacheOptions = {},
  ) {
    if (!Number.isInteger(layer) || layer < 0 || layer > config.numLayers)
      throw new BertConfigError(`cache layer ${layer} is outside 0..${config.numLayers}`);
  }

  get width(): number {
    return this.config.hiddenSize;
  }

  /** One program with a symbolic sequence axis serves every padded length. */
  private compile(): Promise<EvalProgram> {
    this.program ??= (async () => {
      const built = buildBert({ config: this.config, weights: this.weights, seqLen: 'seq', toLayer: this.layer });
      const { batchSize: _b, seqBucket: _s, ...session } = this.cfg;
      return compileEval(built.graph, { hidden: built.hidden }, session);
    })();
    return this.program;
  }

  /** Rows `T_i x H` of each example (length-sorted batches, so padding is small). */
  async compute(
    ids: readonly (readonly number[])[],
    typeIds?: readonly (readonly number[])[],
  ): Promise<Float32Array[]> {
    const H = this.width;
    const bs = this.cfg.batchSize ?? 32;
    const bucket = this.cfg.seqBucket ?? 16;
    const prog = await this.compile();
    const withTypes = this.config.typeVocabSize > 1;
    const order = ids.map((_, i) => i).sort((a, b) => ids[a]!.length - ids[b]!.length);
    const out: Float32Array[] = new Array(ids.length);
    for (let s = 0; s < order.length; s += bs) {
      const part = order.slice(s, s + bs);
      const longest = Math.max(1, ...part.map((i) => Math.min(ids[i]!.length, this.maxLength)));
      const S = Math.min(this.maxLength, Math.ceil(longest / bucket) * bucket);
      const B = part.length;
      const inputIds = new BigInt64Array(B * S).fill(BigInt(this.padId));
      const mask = new BigInt64Array(B * S);
      const types = new BigInt64Array(B * S);
      part.forEach((ex, b) => {
        const row = ids[ex]!;
        const T = Math.min(row.length, S);
        for (let t = 0; t < T; t++) {
          inputIds[b * S + t] = BigInt(row[t]!);
          mask[b * S + t] = 1n;
          types[b * S + t] = BigInt(typeIds?.[ex]?.[t] ?? 0);
        }
      });
      const res = await prog.run({
        input_ids: tensor('int64', inputIds, [B, S]),
        attention_mask: tensor('int64', mask, [B, S]),
        ...(withTypes ? { token_type_ids: tensor('int64', types, [B, S]) } : {}),
      });
      const h = res.hidden!.data as Float32Array;
      part.forEach((ex, b) => {
        const T = Math.min(ids[ex]!.length, S);
        out[ex] = h.slice(b * S * H, (b * S + T) * H);
      });
    }
    return out;
  }

  async release(): Promise<void> {
    const p = this.program;
    this.program = undefined;
    if (p) await (await p).release();
  }
}
