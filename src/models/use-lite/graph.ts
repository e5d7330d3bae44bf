/**
 * USE-lite on the graph IR: the encoder of ./reference.ts, batched with padding, with the same PEFT
 * hook points as the BERT builder (`EncoderHooks`), an optional classification head, and a
 * frozen-prefix entry point (`fromLayer`) / exit point (`toLayer`) for caching layer inputs.
 *
 * Inputs: `input_ids` int64 [B, S] and `attention_mask` int64 [B, S] (1 = token, 0 = padding), or
 * with `fromLayer: k` the hidden states entering layer k, `hidden_in` float32 [B, S, width_k], plus
 * the mask. Shapes per layer l (width d = 256 in layer 0, 512 in layer 1; 4 heads of d/4):
 *
 *   x0 = 2 E[ids] + timing(0..S-1)                         [B, S, 256]
 *   h = LN(x);  q|k|v = h Wqkv + b  (split, `projection` hook on each)   [B, S, d] x 3
 *   a = softmax(scale q k^T + maskBias) v   (+ `prefix` rows)           [B, S, d]
 *   y = a Wo + bo + (l = 0 ? x Wr + br : x)                              [B, S, 512]
 *   f = relu(LN(y) W1 + b1) W2 + b2;  f' = ffn hook(input LN(y), output f)
 *   x' = y + f'                                                           [B, S, 512]
 *   pooled = sum_t m_t x_L[t] / max(sum_t m_t, 1);  z = tanh(pooled Wt + bt);  e = z / |z|
 *
 * maskBias = (1 - m) * -1e9 on the keys (the graph's own constant): at real query rows padded keys
 * get exactly zero weight (exp underflows), so real tokens see the same values as one unpadded
 * text; padded rows hold finite junk that neither attention (masked keys) nor pooling reads.
 *
 * PEFT hook semantics (the same as BERT's, translated to pre-norm):
 * - `ffn`: input = LN(y), the FFN's actual input; output = f, the FFN output before it is added to
 *   the residual stream. A serial adapter transforms f ("after the FFN", before the residual add,
 *   as in BERT where it acts before residual + LayerNorm); a parallel adapter adds a branch from
 *   LN(y) ("beside the FFN", reading what the FFN reads, summed into the FFN output). Both are 512
 *   wide in every layer (layer 0 widens before its FFN), so `BackboneDims.hidden = 512` fits exactly.
 * - `projection`: q, k, v of the packed projection (split after the matmul). Layer 0's attention is
 *   256 wide: with `attentionHookWidth: 'native'` (default) the hooks get the 256-wide values
 *   (PEFT modules size LoRA per layer from `BackboneDims.attentionWidths` = [256, 512]). `'padded'`
 *   zero-pads layer-0 contexts to 512 (input and output) and cuts the hook's result back to the
 *   first 256 columns, for modules sized by the one hidden size: LoRA's update is then exactly
 *   rank-r LoRA on the 256-d projection, but A's columns 256.. and B's rows 256.. are dead
 *   (zero gradient).
 * - `prefix`: rows [P, d] per layer; in 'padded' mode also [P, 512], cut to [P, d] in layer 0
 *   (the dropped columns get zero gradient).
 *
 * Siamese pairs (`siamese: true`): a second text stream (`input_ids_b` / `hidden_in_b` and
 * `attention_mask_b`, same [B, S]) is stacked under the first on the batch axis, so both texts run
 * through the very same layers and PEFT modules ([2B, S] inside the encoder; each row is its own
 * sequence, so a text's embedding does not depend on its partner), and the embeddings are split
 * back into u, v [B, 512]. The head then reads the pair (`PairHead`): a linear layer or an MLP over
 * [u, v, |u - v|, u * v] (u, v rescaled by sqrt(512) as the single-text head's input), or
 * `w cos(u, v) + b` for regression.
 */
import { Graph, type Dim, type Value } from '../../graph/ir.js';
import * as ops from '../../graph/ops/index.js';
import { type BackboneDims, type EncoderHooks, type PairHead, SECOND_TEXT_INPUTS } from '../types.js';
import { mixSeed, seededNormal } from '../../core/random.js';
import type { Dense, Norm, UseLiteConfig, UseLiteModel, UseLiteParams } from './load.js';

/** A build option the caller got wrong: one line naming the option and the fix. */
export class UseLiteBuildError extends Error {
  override name = 'UseLiteBuildError';
  readonly userFacing = true;
}

/** Weight names of the encoder (the `trainable` predicate sees these). */
export const USE_LITE_NAMES = {
  embeddings: 'use_lite.embeddings',
  layer: (
    l: number,
    part: 'attn_norm' | 'qkv' | 'out' | 'residual' | 'ffn_norm' | 'ffn1' | 'ffn2',
    which: 'kernel' | 'bias' | 'scale',
  ) => `use_lite.layer.${l}.${part}.${which}`,
  pool: (which: 'kernel' | 'bias') => `use_lite.pool.${which}`,
} as const;

/**
 * Head tensors (PyTorch layout): `classifier.weight` [numLabels, in] + `classifier.bias` [numLabels],
 * in = 512 (one text), 2048 (siamese `linear`: [u, v, |u - v|, u * v]), 512 (siamese `mlp`, after
 * `classifier.dense.*` [512, 2048] + [512]) or 1 (siamese `cosine`).
 */
export const USE_LITE_HEAD = {
  weight: 'classifier.weight',
  bias: 'classifier.bias',
  denseWeight: 'classifier.dense.weight',
  denseBias: 'classifier.dense.bias',
} as const;

/** Trainable predicate for full fine-tuning: everything but the embedding table. */
export const allButUseLiteEmbeddings = (name: string): boolean => name !== USE_LITE_NAMES.embeddings;

export interface UseLiteHeadOptions {
  numLabels: number;
  /** Start values by name (`classifier.weight` / `classifier.bias`); missing ones are fresh. */
  weights?: ReadonlyMap<string, { data: Float32Array }> | undefined;
  /** Seed of the fresh init (N(0, 0.02) weights, zero bias). */
  seed?: number;
  /** Dropout ratio on the head input (training programs only). Default 0. */
  dropout?: number;
  /** Head weights are params (default true). */
  trainable?: boolean;
  /** Siamese builds: the head over both texts (default 'linear'). */
  pairHead?: PairHead;
  /** Siamese `cosine` head: the regression targets' range [low, high] (default [0, 1]). */
  labelRange?: readonly [number, number];
}

export interface UseLiteBuildOptions {
  model: { params: UseLiteParams; config: UseLiteConfig };
  /**
   * Sequence length: static (<= config.maxLength, 128), or a symbol (e.g. 'sequence') for a graph
   * that takes any length up to 128 (the merged export).
   */
  seqLen: Dim;
  /** Batch dim (default the symbol 'batch'). */
  batch?: Dim;
  hooks?: EncoderHooks | undefined;
  /** Which encoder weights become params (names in USE_LITE_NAMES; default none). */
  trainable?: ((name: string) => boolean) | undefined;
  /** Start at layer k from `hidden_in` [B, S, width_k] instead of token ids (0 <= k <= layers). */
  fromLayer?: number;
  /**
   * Stop before layer k (fromLayer <= k <= layers): `hidden` is the input of layer k and no pooling
   * or head is built. Default: all layers, then pooling, tanh, L2 norm (and the head if given).
   */
  toLayer?: number;
  /**
   * How layer-0 attention contexts (256 wide) meet PEFT hooks: 'native' (default) as they are
   * (PEFT sized per layer by `BackboneDims.attentionWidths`); 'padded' zero-padded to the 512 hidden size.
   */
  attentionHookWidth?: 'padded' | 'native';
  /** Classification head on the sentence embedding. */
  head?: UseLiteHeadOptions;
  /** Build into this graph (default a new one). */
  graph?: Graph;
  /** Siamese pairs: a second text stream through the same layers (see the file comment). */
  siamese?: boolean;
}

export interface UseLiteGraph {
  graph: Graph;
  /** `input_ids` (absent with fromLayer). */
  inputIds?: Value | undefined;
  /** `hidden_in` (only with fromLayer). */
  hiddenIn?: Value | undefined;
  attentionMask: Value;
  /** Input of each built layer l (index l; earlier entries undefined with fromLayer). */
  layerInputs: (Value | undefined)[];
  /** After the attention block's residual add, per built layer [B, S, 512]. */
  attnOutputs: (Value | undefined)[];
  /** Output of each built layer [B, S, 512]. */
  layerOutputs: (Value | undefined)[];
  /** The last value built: layer `toLayer`'s input, or the last layer's output [B, S, width]. */
  hidden: Value;
  /** Masked mean of the last layer [B, 512] (full builds only). */
  pooled?: Value | undefined;
  /** tanh layer output before normalisation [B, 512]. */
  tanh?: Value | undefined;
  /** L2-normalised sentence embedding [B, 512] (siamese: [2B, 512], the second texts below the first). */
  embedding?: Value;
  /** Siamese builds: the second text's inputs (`input_ids_b` or `hidden_in_b`, `attention_mask_b`). */
  second?: { inputIds?: Value; hiddenIn?: Value; attentionMask: Value };
  /** Siamese full builds: the two texts' embeddings u, v [B, 512]. */
  pairEmbeddings?: [Value, Value];
  /** [B, numLabels] when a head was asked for. */
  logits?: Value;
  /** Encoder weights made trainable. */
  encoderParams: Value[];
  /** The head's params (when trainable). */
  headParams: Value[];
}

/** Names of the graph inputs, in feed order. */
export const USE_LITE_INPUTS = { ids: 'input_ids', hidden: 'hidden_in', mask: 'attention_mask' } as const;

/** Fresh head tensors: weight N(0, 0.02) [numLabels, hidden] (BERT's init), zero bias. */
export function freshUseLiteHead(
  numLabels: number,
  hidden: number,
  seed: number,
): Map<string, { data: Float32Array; shape: number[] }> {
  const rnd = seededNormal(seed);
  const w = new Float32Array(numLabels * hidden);
  for (let i = 0; i < w.length; i++) w[i] = 0.02 * rnd();
  return new Map([
    [USE_LITE_HEAD.weight, { data: w, shape: [numLabels, hidden] }],
    [USE_LITE_HEAD.bias, { data: new Float32Array(numLabels), shape: [numLabels] }],
  ]);
}

/**
 * Fresh siamese head tensors for `kind` over 512-d u, v: N(0, 0.02) weights and zero biases, except
 * `cosine`, which starts as the map of cos in [0, 1] onto `labelRange`.
 */
export function freshUseLitePairHead(
  kind: PairHead,
  numLabels: number,
  hidden: number,
  seed: number,
  labelRange: readonly [number, number] = [0, 1],
): Map<string, { data: Float32Array; shape: number[] }> {
  if (kind === 'cosine') {
    if (numLabels !== 1)
      throw new UseLiteBuildError(`the cosine pair head is for regression (1 output), not ${numLabels} labels`);
    return new Map([
      [USE_LITE_HEAD.weight, { data: Float32Array.of(labelRange[1] - labelRange[0]), shape: [1, 1] }],
      [USE_LITE_HEAD.bias, { data: Float32Array.of(labelRange[0]), shape: [1] }],
    ]);
  }
  if (kind === 'linear') return freshUseLiteHead(numLabels, 4 * hidden, seed);
  const rnd = seededNormal(mixSeed(seed, 1));
  const dense = new Float32Array(hidden * 4 * hidden);
  for (let i = 0; i < dense.length; i++) dense[i] = 0.02 * rnd();
  return new Map([
    [USE_LITE_HEAD.denseWeight, { data: dense, shape: [hidden, 4 * hidden] }],
    [USE_LITE_HEAD.denseBias, { data: new Float32Array(hidden), shape: [hidden] }],
    ...freshUseLiteHead(numLabels, hidden, seed),
  ]);
}

/** Sinusoidal timing signal `S x embedDim`, as ./reference.ts embedTokens computes it. */
export function timingSignal(seqLen: number, invTimescales: Float32Array): Float32Array {
  const half = invTimescales.length;
  const d = 2 * half;
  const out = new Float32Array(seqLen * d);
  for (let t = 0; t < seqLen; t++) {
    for (let j = 0; j < half; j++) {
      // NOTE: the graph forms p * w in float32 before sin/cos (as reference.ts does).
      const angle = Math.fround(t * invTimescales[j]);
      out[t * d + j] = Math.sin(angle);
      out[t * d + half + j] = Math.cos(angle);
    }
  }
  return out;
}

/** Width of the hidden states entering layer k (k = layers: the last layer's output). */
/** USE-lite's `BackboneDims`: attention widths per layer = each layer's input width (256, 512). */
export function useLiteDims(model: Pick<UseLiteModel, 'config' | 'params'>): BackboneDims {
  const c = model.config;
  return {
    numLayers: c.layers,
    hidden: c.hidden,
    numHeads: c.heads,
    attentionWidths: model.params.layers.map((l) => l.inDim),
  };
}

export function layerInputWidth(config: UseLiteConfig, params: UseLiteParams, k: number): number {
  return k === 0 ? config.embedDim : params.layers[k - 1].outDim;
}

export function buildUseLite(opts: UseLiteBuildOptions): UseLiteGraph {
  const { params, config } = opts.model;
  const g = opts.graph ?? new Graph();
  const S = opts.seqLen;
  const B = opts.batch ?? 'batch';
  const L = params.layers.length;
  const from = opts.fromLayer ?? 0;
  const to = opts.toLayer ?? L;
  if (typeof S === 'number' && (!Number.isInteger(S) || S < 1 || S > config.maxLength)) {
    throw new UseLiteBuildError(
      `seqLen ${S} is outside 1..${config.maxLength} (USE-lite's maximum length); lower --max-length`,
    );
  }
  if (!Number.isInteger(from) || from < 0 || from > L)
    throw new UseLiteBuildError(`fromLayer ${from} is outside 0..${L}`);
  if (!Number.isInteger(to) || to < from || to > L)
    throw new UseLiteBuildError(`toLayer ${to} is outside fromLayer (${from})..${L}`);
  if (opts.head && to < L) throw new UseLiteBuildError(`a head needs every layer; drop toLayer (${to}) or the head`);
  const trainable = opts.trainable ?? (() => false);
  const hookWidth = opts.attentionHookWidth ?? 'native';
  const hidden = config.hidden;
  const encoderParams: Value[] = [];

  const W = (name: string, data: Float32Array, shape: number[]): Value => {
    if (trainable(name)) {
      const p = g.param(name, data.slice(), shape);
      encoderParams.push(p);
      return p;
    }
    return g.constant(data, shape, name);
  };
  // Kernels are TF layout [in, out]: y = x W + b directly (no transpose needed).
  const dense = (x: Value, d: Dense, name: 'qkv' | 'out' | 'residual' | 'ffn1' | 'ffn2', l: number) =>
    ops.add(
      ops.matmul(x, W(USE_LITE_NAMES.layer(l, name, 'kernel'), d.kernel, [d.rows, d.cols])),
      W(USE_LITE_NAMES.layer(l, name, 'bias'), d.bias, [d.cols]),
    );
  const norm = (x: Value, p: Norm, name: 'attn_norm' | 'ffn_norm', l: number, d: number) =>
    ops.layerNorm(
      x,
      W(USE_LITE_NAMES.layer(l, name, 'scale'), p.scale, [d]),
      W(USE_LITE_NAMES.layer(l, name, 'bias'), p.bias, [d]),
      config.layerNormEpsilon,
    );

  let inputIds: Value | undefined;
  let hiddenIn: Value | undefined;
  let second: UseLiteGraph['second'];
  let x: Value;
  const siamese = opts.siamese === true;
  // Siamese: the second texts are stacked under the first on the batch axis (no gradient flows
  // into data inputs, so the stacking needs none).
  const stack = (a: Value, b: Value | undefined): Value => (b ? ops.concat([a, b], 0) : a);
  if (from === 0) {
    inputIds = g.input(USE_LITE_INPUTS.ids, 'int64', [B, S]);
  } else {
    hiddenIn = g.input(USE_LITE_INPUTS.hidden, 'float32', [B, S, layerInputWidth(config, params, from)]);
  }
  const attentionMask = g.input(USE_LITE_INPUTS.mask, 'int64', [B, S]);
  if (siamese) {
    second =
      from === 0
        ? { inputIds: g.input(SECOND_TEXT_INPUTS.ids, 'int64', [B, S]), attentionMask: undefined! }
        : {
            hiddenIn: g.input(SECOND_TEXT_INPUTS.hidden, 'float32', [B, S, layerInputWidth(config, params, from)]),
            attentionMask: undefined!,
          };
    second.attentionMask = g.input(SECOND_TEXT_INPUTS.mask, 'int64', [B, S]);
  }
  const encoderMask = stack(attentionMask, second?.attentionMask);
  if (inputIds) {
    const ids = stack(inputIds, second?.inputIds);
    const E = W(USE_LITE_NAMES.embeddings, params.embeddings, [config.vocabSize, config.embedDim]);
    // A symbolic length gathers its rows from the full 128-row table.
    const timing =
      typeof S === 'number'
        ? g.constant(timingSignal(S, params.invTimescales), [S, config.embedDim], 'use_lite.timing_signal')
        : ops.gather(
            g.constant(
              timingSignal(config.maxLength, params.invTimescales),
              [config.maxLength, config.embedDim],
              'use_lite.timing_signal',
            ),
            ops.rangeOf(inputIds, 1),
          );
    // NOTE: the graph adds the embedding twice (embeddingMultiplier 2); x2 is exact in float32.
    x = ops.add(ops.mul(ops.gather(E, ids), config.embeddingMultiplier), timing);
  } else x = stack(hiddenIn!, second?.hiddenIn);

  if (from > 0 && opts.hooks) checkNoHooksBelow(g, opts.hooks, from, params, hookWidth === 'padded' ? hidden : 0);

  const maskF = ops.cast(encoderMask, 'float32');
  // [B, 1, 1, S]: the graph's -1e9 on padded keys.
  const maskBias = ops.unsqueeze(ops.mul(ops.sub(1, maskF), config.attentionMaskBias), [1, 2]);

  const layerInputs: (Value | undefined)[] = [];
  const attnOutputs: (Value | undefined)[] = [];
  const layerOutputs: (Value | undefined)[] = [];
  for (let l = from; l < to; l++) {
    const lp = params.layers[l];
    const d = lp.inDim;
    const nh = lp.heads;
    const dh = lp.headDim;
    layerInputs[l] = x;
    const h = norm(x, lp.attnNorm, 'attn_norm', l, d);
    const qkv = dense(h, lp.qkv, 'qkv', l);
    const padTo = hookWidth === 'padded' && d < hidden ? hidden - d : 0;
    const widen = (t: Value) => (padTo > 0 ? ops.pad(t, [0, 0, 0, 0, 0, padTo]) : t);
    let hWide: Value | undefined;
    const proj = (name: 'query' | 'key' | 'value', i: number): Value => {
      const out = ops.slice(qkv, [i * d], [(i + 1) * d], [2]);
      if (!opts.hooks?.projection) return out;
      const ctxOut = widen(out);
      hWide ??= widen(h);
      // Unused widened values (a hook that passes the output through) are pruned at emission.
      const res = opts.hooks.projection({ layer: l, graph: g, name, input: hWide, output: ctxOut });
      if (res === ctxOut) return out;
      return padTo > 0 ? ops.slice(res, [0], [d], [2]) : res;
    };
    const heads = (t: Value) => ops.transpose(ops.reshape(t, [0, 0, nh, dh]), [0, 2, 1, 3]);
    const q = heads(proj('query', 0));
    const k = heads(proj('key', 1));
    const v = heads(proj('value', 2));
    let scores = ops.add(ops.matmul(q, k, { transB: true, alpha: lp.attnScale }), maskBias);
    const prefix = opts.hooks?.prefix?.(l, g);
    let ctx: Value;
    if (prefix) {
      const fit = (t: Value, what: string): Value => {
        const w = t.shape[1];
        if (w === d) return t;
        if (w === hidden && padTo > 0) return ops.slice(t, [0], [d], [1]);
        throw new UseLiteBuildError(
          `prefix ${what} of layer ${l} is [${t.shape.join(',')}]; USE-lite layer ${l} attends over width ${d}`,
        );
      };
      const pkR = fit(prefix.key, 'key');
      const pvR = fit(prefix.value, 'value');
      const P = pkR.shape[0] as number;
      const ph = (t: Value) => ops.transpose(ops.reshape(t, [P, nh, dh]), [1, 0, 2]);
      const own = scores;
      scores = ops.concat([ops.matmul(q, ph(pkR), { transB: true, alpha: lp.attnScale }), own], 3);
      const probs = ops.softmax(scores, -1);
      const [pp, ps] =
        typeof S === 'number'
          ? [ops.slice(probs, [0], [P], [3]), ops.slice(probs, [P], [P + S], [3])]
          : ops.split(probs, 3, [P, S], own);
      ctx = ops.add(ops.matmul(ps!, v), ops.matmul(pp!, ph(pvR)));
    } else {
      ctx = ops.matmul(ops.softmax(scores, -1), v);
    }
    const merged = ops.reshape(ops.transpose(ctx, [0, 2, 1, 3]), [0, 0, d]);
    const residual = lp.residual ? dense(x, lp.residual, 'residual', l) : x;
    const y = ops.add(dense(merged, lp.out, 'out', l), residual);
    attnOutputs[l] = y;
    const ffnIn = norm(y, lp.ffnNorm, 'ffn_norm', l, lp.outDim);
    let ffnOut = dense(ops.relu(dense(ffnIn, lp.ffn1, 'ffn1', l)), lp.ffn2, 'ffn2', l);
    const ffn0 = ffnOut;
    if (opts.hooks?.ffn)
      ffnOut = opts.hooks.ffn({
        layer: l,
        graph: g,
        input: ffnIn,
        output: ffnOut,
        frozenOutput: () => ops.add(y, ffn0),
      });
    x = ops.add(y, ffnOut);
    layerOutputs[l] = x;
  }
  const out: UseLiteGraph = {
    graph: g,
    inputIds,
    hiddenIn,
    attentionMask,
    layerInputs,
    attnOutputs,
    layerOutputs,
    hidden: x,
    encoderParams,
    headParams: [],
    ...(second ? { second } : {}),
  };
  if (to < L) return out;

  // Masked mean pooling: padded rows hold junk, so they are multiplied out, not just ignored.
  const m3 = ops.unsqueeze(maskF, [2]);
  const count = ops.reduceSum(maskF, [1], true);
  // NOTE: divisor max(count, 1), the graph's floor (an empty text pools to 0).
  const pooled = ops.div(ops.reduceSum(ops.mul(x, m3), [1], false), ops.where(ops.less(count, 1), 1, count));
  const pk = params.pool;
  const tanh = ops.tanh(
    ops.add(
      ops.matmul(pooled, W(USE_LITE_NAMES.pool('kernel'), pk.kernel, [pk.rows, pk.cols])),
      W(USE_LITE_NAMES.pool('bias'), pk.bias, [pk.cols]),
    ),
  );
  const sq = ops.reduceSum(ops.mul(tanh, tanh), [1], true);
  // NOTE: tf.math.l2_normalize: x * rsqrt(max(sum x^2, 1e-12)).
  const embedding = ops.div(tanh, ops.sqrt(ops.where(ops.less(sq, config.l2Epsilon), config.l2Epsilon, sq)));
  Object.assign(out, { pooled, tanh, embedding });
  if (siamese) out.pairEmbeddings = unstackPairs(embedding, B);

  if (opts.head) {
    const hd = opts.head;
    if (!Number.isInteger(hd.numLabels) || hd.numLabels < 1)
      throw new UseLiteBuildError(`head.numLabels ${hd.numLabels} must be an integer >= 1`);
    const fresh = siamese
      ? freshUseLitePairHead(hd.pairHead ?? 'linear', hd.numLabels, hidden, hd.seed ?? 0, hd.labelRange)
      : freshUseLiteHead(hd.numLabels, hidden, hd.seed ?? 0);
    const headTensor = (name: string): Value => {
      const f = fresh.get(name)!;
      const saved = hd.weights?.get(name);
      if (saved && saved.data.length !== f.data.length) {
        throw new UseLiteBuildError(
          `head weights: '${name}' has ${saved.data.length} values, expected [${f.shape.join(',')}]; were they saved for another number of labels?`,
        );
      }
      const data = saved ? Float32Array.from(saved.data) : f.data;
      if (hd.trainable === false) return g.constant(data, f.shape, name);
      const p = g.param(name, data, f.shape);
      out.headParams.push(p);
      return p;
    };
    if (out.pairEmbeddings) {
      out.logits = pairHeadLogits(out.pairEmbeddings, hd, hidden, headTensor);
      return out;
    }
    // NOTE: the head reads the unit-norm embedding rescaled by sqrt(512) (unit RMS per feature,
    // ~2x the tanh output here), so a N(0, 0.02) head trains at the pace it does on BERT features.
    let hin = ops.mul(embedding, Math.sqrt(hidden));
    hin = ops.dropout(hin, hd.dropout ?? 0, hd.seed ?? 0);
    out.logits = ops.linear(hin, headTensor(USE_LITE_HEAD.weight), headTensor(USE_LITE_HEAD.bias));
  }
  return out;
}

/** [2B, H] (first texts, then second texts) -> u, v [B, H]. */
function unstackPairs(e: Value, B: Dim): [Value, Value] {
  const g = e.graph;
  const H = e.shape[1]!;
  // NOTE: a raw Reshape: ops.reshape cannot infer B from the stacked dim's name ('batch+batch');
  // its gradient reshapes back to the stacked value's run-time shape.
  const two = g.node('Reshape', [e, g.ints([2, -1, H as number])], {}, [{ dtype: e.dtype, shape: [2, B, H] }])[0]!;
  const half = (i: number) => ops.squeeze(ops.slice(two, [i], [i + 1], [0]), [0]);
  return [half(0), half(1)];
}

/**
 * The siamese head's output [B, numLabels] from unit-norm u, v [B, H]: features
 * [u', v', |u' - v'|, u' * v'] with u' = sqrt(H) u (as the single-text head's input), dropout, then
 * `linear` or `mlp` (tanh hidden layer of H); or `cosine`: w cos(u, v) + b (no dropout).
 */
function pairHeadLogits(
  [u, v]: [Value, Value],
  hd: UseLiteHeadOptions,
  hidden: number,
  tensor: (name: string) => Value,
): Value {
  const kind = hd.pairHead ?? 'linear';
  if (kind === 'cosine') {
    const cos = ops.reduceSum(ops.mul(u, v), [1], true);
    return ops.linear(cos, tensor(USE_LITE_HEAD.weight), tensor(USE_LITE_HEAD.bias));
  }
  const s = Math.sqrt(hidden);
  const us = ops.mul(u, s);
  const vs = ops.mul(v, s);
  const d = ops.sub(us, vs);
  // |d| = 2 relu(d) - d: exact, and Relu has a gradient rule (there is no Abs op in the engine).
  const absD = ops.sub(ops.mul(ops.relu(d), 2), d);
  const seed = hd.seed ?? 0;
  let f = ops.dropout(ops.concat([us, vs, absD, ops.mul(us, vs)], 1), hd.dropout ?? 0, seed);
  if (kind === 'mlp') {
    f = ops.tanh(ops.linear(f, tensor(USE_LITE_HEAD.denseWeight), tensor(USE_LITE_HEAD.denseBias)));
    f = ops.dropout(f, hd.dropout ?? 0, mixSeed(seed, 2));
  }
  return ops.linear(f, tensor(USE_LITE_HEAD.weight), tensor(USE_LITE_HEAD.bias));
}

/**
 * With fromLayer k the layers below k are not built, so a PEFT module there would silently vanish:
 * ask each hook about those layers with placeholder contexts and refuse any that acts. (A hook that
 * acts may have created its params on `g`; the build is abandoned, so they never reach a program.)
 */
function checkNoHooksBelow(g: Graph, hooks: EncoderHooks, from: number, params: UseLiteParams, padded: number): void {
  for (let l = 0; l < from; l++) {
    const lp = params.layers[l];
    const w = Math.max(lp.inDim, padded);
    const probe = (width: number) => g.constant(new Float32Array(width), [1, 1, width]);
    let acts = hooks.prefix?.(l, g) !== undefined;
    if (!acts && hooks.ffn) {
      const output = probe(lp.outDim);
      acts = hooks.ffn({ layer: l, graph: g, input: probe(lp.outDim), output }) !== output;
    }
    for (const name of ['query', 'key', 'value'] as const) {
      if (acts || !hooks.projection) break;
      const output = probe(w);
      acts = hooks.projection({ layer: l, graph: g, name, input: probe(w), output }) !== output;
    }
    if (acts)
      throw new UseLiteBuildError(
        `fromLayer ${from} skips layer ${l}, which has a PEFT module; cache from the lowest PEFT layer (cacheableLayer) instead`,
      );
  }
}
