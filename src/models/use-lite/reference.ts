/**
 * Plain-TypeScript forward pass of USE-lite, written from its tfjs graph (model.json): the
 * executable specification that the engine-IR port is checked against, layer by layer.
 *
 * Per text of T token ids (T <= maxLength; the graph drops later tokens), shapes `rows x cols`:
 *   x0 = 2 * E[ids] + timing(0..T-1)                 T x 256   (the graph adds E twice)
 *   timing(p) = [sin(p * w), cos(p * w)], w = invTimescales (128, 1 .. 1e-4 geometric)
 *   per layer l (pre-norm; layer 0: d = 256 -> 512, layer 1: d = 512 -> 512):
 *     h  = LN(x)                                      T x d      (eps 1e-6, biased variance)
 *     q|k|v = h Wqkv + b                              T x 3d     (4 heads of d/4)
 *     a  = softmax(q * d_h^-0.5 k^T) v                T x d      (no padding inside one text)
 *     y  = a Wo + bo + (l = 0 ? x Wr + br : x)        T x 512
 *     x' = y + relu(LN(y) W1 + b1) W2 + b2            T x 512    (FFN 1536)
 *   pooled = mean_t x_L[t]  (divided by max(T, 1))    512        (no final layer norm)
 *   z = tanh(pooled Wt + bt);  e = z / sqrt(max(|z|^2, 1e-12))
 * Batching (padding, the -1e9 key bias, gather/scatter of padded rows around the FFN) does not
 * change the values at real tokens, so texts are computed one by one here.
 */
import type { Dense, Norm, UseLiteConfig, UseLiteLayerParams, UseLiteModel, UseLiteParams } from './load.js';
import { PAD_ID } from './tokenizer.js';

/** Intermediate values of one layer, each `T x width` row-major. */
export interface UseLiteLayerTrace {
  /** LN(x): input of q|k|v (`T x inDim`). */
  attnInput: Float32Array;
  /** Concatenated heads before the output projection (`T x inDim`). */
  attnContext: Float32Array;
  /** After the attention block's residual add (`T x outDim`). */
  attnOutput: Float32Array;
  /** Layer output, after the FFN's residual add (`T x outDim`). */
  output: Float32Array;
}

export interface UseLiteTrace {
  ids: number[];
  /** Tokens kept (ids clipped to maxLength). */
  length: number;
  /** Layer-0 input x0 (`T x embedDim`). */
  embedded: Float32Array;
  layers: UseLiteLayerTrace[];
  /** Masked mean of the last layer (`hidden`). */
  pooled: Float32Array;
  /** tanh layer output before normalisation (`hidden`). */
  tanh: Float32Array;
  /** L2-normalised sentence embedding (`hidden`). */
  embedding: Float32Array;
}

/** y = x W + b: x `n x W.rows`, returns `n x W.cols`. */
export function denseForward(x: Float32Array, n: number, w: Dense): Float32Array {
  const { rows, cols, kernel, bias } = w;
  const y = new Float32Array(n * cols);
  // Four rows of x per sweep over the kernel: each kernel value is loaded once per four rows (the
  // kernels do not fit in cache). NOTE: float64 accumulation in the order bias + sum over k
  // ascending, rounded to float32 once at the end.
  const acc = new Float64Array(4 * cols);
  for (let t0 = 0; t0 < n; t0 += 4) {
    const m = Math.min(4, n - t0);
    for (let r = 0; r < 4; r++) acc.set(bias, r * cols);
    const x0 = t0 * rows;
    for (let k = 0; k < rows; k++) {
      const a0 = x[x0 + k];
      const a1 = m > 1 ? x[x0 + rows + k] : 0;
      const a2 = m > 2 ? x[x0 + 2 * rows + k] : 0;
      const a3 = m > 3 ? x[x0 + 3 * rows + k] : 0;
      const ko = k * cols;
      for (let j = 0; j < cols; j++) {
        const v = kernel[ko + j];
        acc[j] += a0 * v;
        acc[cols + j] += a1 * v;
        acc[2 * cols + j] += a2 * v;
        acc[3 * cols + j] += a3 * v;
      }
    }
    for (let r = 0; r < m; r++) y.set(acc.subarray(r * cols, (r + 1) * cols), (t0 + r) * cols);
  }
  return y;
}

/** Layer norm over the last axis of `n x d`; NOTE: biased variance, eps inside the rsqrt (T2T). */
export function layerNorm(x: Float32Array, n: number, d: number, p: Norm, eps: number): Float32Array {
  const y = new Float32Array(n * d);
  for (let t = 0; t < n; t++) {
    const o = t * d;
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x[o + j];
    mean /= d;
    let v = 0;
    for (let j = 0; j < d; j++) v += (x[o + j] - mean) ** 2;
    v /= d;
    const r = 1 / Math.sqrt(v + eps);
    for (let j = 0; j < d; j++) y[o + j] = p.scale[j] * r * (x[o + j] - mean) + p.bias[j];
  }
  return y;
}

/** Token embeddings plus the sinusoidal timing signal: `T x embedDim`. */
export function embedTokens(ids: readonly number[], params: UseLiteParams, config: UseLiteConfig): Float32Array {
  const d = config.embedDim;
  const half = d / 2;
  const x = new Float32Array(ids.length * d);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize)
      throw new RangeError(`token id ${id} at position ${t} is outside 0..${config.vocabSize - 1}`);
    const e = id * d;
    for (let j = 0; j < half; j++) {
      // NOTE: the graph forms p * w in float32 before sin/cos; fround keeps that rounding.
      const angle = Math.fround(t * params.invTimescales[j]);
      x[t * d + j] = config.embeddingMultiplier * params.embeddings[e + j] + Math.sin(angle);
      x[t * d + half + j] = config.embeddingMultiplier * params.embeddings[e + half + j] + Math.cos(angle);
    }
  }
  return x;
}

/** Multi-head self-attention over one unpadded text: qkv `T x 3d` -> context `T x d`. */
export function selfAttention(qkv: Float32Array, T: number, layer: UseLiteLayerParams): Float32Array {
  const d = layer.inDim;
  const dh = layer.headDim;
  const ctx = new Float32Array(T * d);
  const logits = new Float64Array(T);
  for (let h = 0; h < layer.heads; h++) {
    const qo = h * dh;
    const ko = d + h * dh;
    const vo = 2 * d + h * dh;
    for (let i = 0; i < T; i++) {
      let max = -Infinity;
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let c = 0; c < dh; c++) s += layer.attnScale * qkv[i * 3 * d + qo + c] * qkv[j * 3 * d + ko + c];
        logits[j] = s;
        if (s > max) max = s;
      }
      let z = 0;
      for (let j = 0; j < T; j++) {
        logits[j] = Math.exp(logits[j] - max);
        z += logits[j];
      }
      for (let c = 0; c < dh; c++) {
        let s = 0;
        for (let j = 0; j < T; j++) s += logits[j] * qkv[j * 3 * d + vo + c];
        ctx[i * d + h * dh + c] = s / z;
      }
    }
  }
  return ctx;
}

function add(a: Float32Array, b: Float32Array): Float32Array {
  const y = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i] + b[i];
  return y;
}

/** One transformer layer on `T x inDim`, returning its trace (output `T x outDim`). */
export function transformerLayer(
  x: Float32Array,
  T: number,
  layer: UseLiteLayerParams,
  eps: number,
): UseLiteLayerTrace {
  const attnInput = layerNorm(x, T, layer.inDim, layer.attnNorm, eps);
  const qkv = denseForward(attnInput, T, layer.qkv);
  const attnContext = selfAttention(qkv, T, layer);
  const projected = denseForward(attnContext, T, layer.out);
  const residual = layer.residual ? denseForward(x, T, layer.residual) : x;
  const attnOutput = add(projected, residual);
  const hidden = denseForward(layerNorm(attnOutput, T, layer.outDim, layer.ffnNorm, eps), T, layer.ffn1);
  for (let i = 0; i < hidden.length; i++) if (hidden[i] < 0) hidden[i] = 0;
  const output = add(attnOutput, denseForward(hidden, T, layer.ffn2));
  return { attnInput, attnContext, attnOutput, output };
}

/** Mean pooling, tanh layer and L2 normalisation of a last-layer output `T x hidden`. */
export function poolAndNormalize(
  x: Float32Array,
  T: number,
  params: UseLiteParams,
  config: UseLiteConfig,
): { pooled: Float32Array; tanh: Float32Array; embedding: Float32Array } {
  const d = config.hidden;
  const pooled = new Float32Array(d);
  const acc = new Float64Array(d);
  for (let t = 0; t < T; t++) for (let j = 0; j < d; j++) acc[j] += x[t * d + j];
  const count = Math.max(T, 1);
  for (let j = 0; j < d; j++) pooled[j] = acc[j] / count;
  const tanh = denseForward(pooled, 1, params.pool).map(Math.tanh);
  let sq = 0;
  for (let j = 0; j < d; j++) sq += tanh[j] * tanh[j];
  const r = 1 / Math.sqrt(Math.max(sq, config.l2Epsilon));
  const embedding = tanh.map((v) => v * r);
  return { pooled, tanh, embedding };
}

/** Full forward of one text's token ids (clipped to maxLength), with every intermediate. */
export function traceUseLite(model: Pick<UseLiteModel, 'params' | 'config'>, ids: readonly number[]): UseLiteTrace {
  const { params, config } = model;
  const kept = ids.slice(0, config.maxLength);
  const T = kept.length;
  const embedded = embedTokens(kept, params, config);
  const layers: UseLiteLayerTrace[] = [];
  let x = embedded;
  for (const layer of params.layers) {
    const tr = transformerLayer(x, T, layer, config.layerNormEpsilon);
    layers.push(tr);
    x = tr.output;
  }
  return { ids: kept, length: T, embedded, layers, ...poolAndNormalize(x, T, params, config) };
}

/** Sentence embeddings (`n x hidden`, one Float32Array each) of token-id lists. */
export function embedIdsReference(
  model: Pick<UseLiteModel, 'params' | 'config'>,
  batch: readonly (readonly number[])[],
): Float32Array[] {
  return batch.map((ids) => traceUseLite(model, ids).embedding);
}

/** Sentence embeddings of texts, tokenized with the model's tokenizer. */
export function embedReference(model: UseLiteModel, texts: readonly string[]): Float32Array[] {
  return embedIdsReference(
    model,
    texts.map((t) => model.tokenizer.encodeIds(t)),
  );
}

/** A padded batch of traces, as an engine that runs `B x T` tensors produces them. */
export interface UseLiteBatchTrace {
  batch: number;
  /** Padded length: the longest kept text (at least 1). */
  seqLen: number;
  /** `B x T` token ids (clipped to maxLength); padding slots hold `padId`. */
  ids: Int32Array;
  /** `B x T`, 1 at real tokens, 0 at padding. */
  mask: Uint8Array;
  /** Layer-0 input, `B x T x embedDim`, zeros at padding. */
  embedded: Float32Array;
  /** Per layer: attention-block output and layer output, `B x T x outDim`, zeros at padding. */
  layers: { attnOutput: Float32Array; output: Float32Array }[];
  /** `B x hidden` each. */
  pooled: Float32Array;
  tanh: Float32Array;
  embedding: Float32Array;
}

/**
 * Runs `traceUseLite` per text and stacks the results into padded `B x T x d` arrays (zeros at
 * padding), for checking a batched port layer by layer: compare where `mask` is 1 (the graph
 * itself leaves non-zero values at padded positions after layer 0's attention; they never reach
 * real tokens or the pooled output).
 */
export function traceUseLiteBatch(
  model: Pick<UseLiteModel, 'params' | 'config'>,
  batch: readonly (readonly number[])[],
  padId: number = PAD_ID,
): UseLiteBatchTrace {
  const { config } = model;
  const traces = batch.map((ids) => traceUseLite(model, ids));
  const B = traces.length;
  const T = Math.max(1, ...traces.map((t) => t.length));
  const ids = new Int32Array(B * T).fill(padId);
  const mask = new Uint8Array(B * T);
  const stack = (pick: (t: UseLiteTrace) => Float32Array, d: number) => {
    const out = new Float32Array(B * T * d);
    traces.forEach((t, b) => {
      out.set(pick(t), b * T * d);
    });
    return out;
  };
  traces.forEach((t, b) => {
    t.ids.forEach((id, p) => {
      ids[b * T + p] = id;
      mask[b * T + p] = 1;
    });
  });
  const rows = (pick: (t: UseLiteTrace) => Float32Array) => {
    const out = new Float32Array(B * config.hidden);
    traces.forEach((t, b) => {
      out.set(pick(t), b * config.hidden);
    });
    return out;
  };
  return {
    batch: B,
    seqLen: T,
    ids,
    mask,
    embedded: stack((t) => t.embedded, config.embedDim),
    layers: model.params.layers.map((l, i) => ({
      attnOutput: stack((t) => t.layers[i].attnOutput, l.outDim),
      output: stack((t) => t.layers[i].output, l.outDim),
    })),
    pooled: rows((t) => t.pooled),
    tanh: rows((t) => t.tanh),
    embedding: rows((t) => t.embedding),
  };
}
