/**
 * BERT / RoBERTa post-LN encoder + [CLS] classification head on the graph IR, from a weight map
 * keyed by Hugging Face names (e.g. `bert.encoder.layer.0.attention.self.query.weight`).
 *
 * PEFT modules plug in through `EncoderHooks` (../types.ts): `ffn` sees the FFN sublayer's input (the
 * attention block output) and its output (after the second dense + dropout, before residual +
 * LayerNorm); `prefix` adds key/value rows [P, H] per layer; `projection` wraps query/key/value.
 * Which weights are trainable is the caller's `trainable(name)` predicate.
 */
import { Graph, type Dim, type Value } from '../../graph/ir.js';
import * as ops from '../../graph/ops/index.js';
import { BertConfigError, type BertConfig } from './config.js';
import type { EncoderHooks, WeightMap } from '../types.js';

export interface BertBuildOptions {
  config: BertConfig;
  weights: WeightMap;
  /**
   * Sequence length: a number for a static length, or a symbol (e.g. 'seq') for one program that
   * takes any length up to max_position_embeddings (dynamic padding).
   */
  seqLen: Dim;
  /** Batch dim (default the symbol 'batch'). */
  batch?: Dim;
  /** Which weights become params (default: none, everything frozen). */
  trainable?: (name: string) => boolean;
  hooks?: EncoderHooks | undefined;
  /** Number of labels of the classification head; 0 builds no head (default 2). */
  numLabels?: number;
  /** Compute only the [CLS] row in the last layer (default true: the head reads only [CLS]). */
  clsOnlyLastLayer?: boolean;
  /** Base seed of the dropout sites (each site gets seed + its index). */
  seed?: number;
  /** Override the config's dropout rates (e.g. 0 for deterministic checks). */
  hiddenDropout?: number;
  attentionDropout?: number;
  /** Build into this graph (default: a new one). */
  graph?: Graph;
  /**
   * Frozen-prefix caching: start at layer k from its input `hidden_in` [B, S, H] (no embeddings,
   * no `input_ids`); dropout sites keep the numbers they have in the full graph.
   */
  fromLayer?: number;
  /** Stop before layer k and return its input as `hidden` (no head): the cache's forward program. */
  toLayer?: number;
  /** No dropout in the embeddings and layers below this one (`--frozen-dropout 0`). */
  noDropoutBelow?: number;
  /**
   * BERT's head: `pooler` (default) = tanh(pooler.dense([CLS])) -> dropout -> classifier; `fresh`
   * adds a dropout before the dense (the reference's dropout -> dense -> tanh -> dropout -> linear).
   * RoBERTa's head already has that form, so the option changes nothing there.
   */
  head?: 'pooler' | 'fresh' | undefined;
}

export interface BertGraph {
  graph: Graph;
  /** Absent when the graph starts at a cached layer (`fromLayer`). */
  inputIds?: Value | undefined;
  /** `hidden_in` [B, S, H], the input of layer `fromLayer` (> 0). */
  hiddenIn?: Value | undefined;
  attentionMask: Value;
  /** Absent when typeVocabSize is 1 (RoBERTa). */
  tokenTypeIds?: Value | undefined;
  /** Last layer output: [B, S, H], or [B, 1, H] with clsOnlyLastLayer. */
  hidden: Value;
  /** [CLS] representation [B, H]. */
  cls: Value;
  /** Head logits [B, numLabels] (when numLabels > 0). */
  logits?: Value | undefined;
  /** Every weight made trainable, in creation order. */
  params: Value[];
}

/** The trainable predicate for full fine-tuning with frozen embeddings (the bench setting). */
export const allButEmbeddings = (name: string): boolean => !name.includes('.embeddings.');

// NOTE: Hugging Face's additive mask value (torch.finfo(float32).min).
const MASK_MIN = -3.4028234663852886e38;

/** The FFN activation. NOTE: gelu_tanh is 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as HF's gelu_new. */
export function activate(x: Value, act: NonNullable<BertConfig['hiddenAct']>): Value {
  switch (act) {
    case 'gelu':
      return ops.gelu(x);
    case 'relu':
      return ops.relu(x);
    case 'silu':
      return ops.mul(x, ops.sigmoid(x));
    case 'gelu_tanh': {
      const inner = ops.mul(ops.add(x, ops.mul(ops.mul(ops.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
      return ops.mul(ops.mul(x, 0.5), ops.add(ops.tanh(inner), 1));
    }
  }
}

export function buildBert(opts: BertBuildOptions): BertGraph {
  const cfg = opts.config;
  const g = opts.graph ?? new Graph();
  const S = opts.seqLen;
  const B = opts.batch ?? 'batch';
  const H = cfg.hiddenSize;
  const nh = cfg.numHeads;
  if (H % nh !== 0)
    throw new BertConfigError(`config: hidden_size ${H} is not a multiple of num_attention_heads ${nh}`);
  const dh = H / nh;
  const trainable = opts.trainable ?? (() => false);
  const pre = cfg.flavour;
  const params: Value[] = [];
  const hidP = opts.hiddenDropout ?? cfg.hiddenDropout;
  const attP = opts.attentionDropout ?? cfg.attentionDropout;
  const from = opts.fromLayer ?? 0;
  const to = opts.toLayer ?? cfg.numLayers;
  if (!Number.isInteger(from) || from < 0 || from > to || to > cfg.numLayers)
    throw new BertConfigError(
      `layers: fromLayer ${from} / toLayer ${to} must satisfy 0 <= from <= to <= ${cfg.numLayers}`,
    );
  // Sites are numbered as in the full graph (embeddings 0, then 3 per layer) whatever the first
  // layer built, so a graph started at a cached layer draws the full graph's dropout masks.
  let site = from > 0 ? 1 + 3 * from : 0;
  let layer = -1;
  const seed = opts.seed ?? 0;
  const quiet = opts.noDropoutBelow ?? 0;
  const drop = (x: Value, p: number) => ops.dropout(x, quiet > 0 && layer < quiet ? 0 : p, seed * 1000 + site++);

  const W = (name: string, shape: readonly number[]): Value => {
    const w = opts.weights.get(name);
    if (!w) throw new BertConfigError(`weights: missing '${name}'; check the checkpoint matches a ${pre} model`);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new BertConfigError(`weights: '${name}' has shape [${w.shape.join(',')}], expected [${shape.join(',')}]`);
    }
    if (trainable(name)) {
      const p = g.param(name, w.data.slice(), shape);
      params.push(p);
      return p;
    }
    return g.constant(w.data, shape, name);
  };
  const lin = (x: Value, name: string, o: number, i: number) =>
    ops.linear(x, W(`${name}.weight`, [o, i]), W(`${name}.bias`, [o]));
  const ln = (x: Value, name: string) =>
    ops.layerNorm(x, W(`${name}.weight`, [H]), W(`${name}.bias`, [H]), cfg.layerNormEps);

  const hiddenIn = from > 0 ? g.input('hidden_in', 'float32', [B, S, H]) : undefined;
  const inputIds = hiddenIn ? undefined : g.input('input_ids', 'int64', [B, S]);
  const attentionMask = g.input('attention_mask', 'int64', [B, S]);
  const tokenTypeIds = !hiddenIn && cfg.typeVocabSize > 1 ? g.input('token_type_ids', 'int64', [B, S]) : undefined;
  let x = hiddenIn ?? embed(inputIds!);

  function embed(ids: Value): Value {
    const e = `${pre}.embeddings`;
    const posOffset = cfg.flavour === 'roberta' ? cfg.padTokenId + 1 : 0;
    if (typeof S === 'number' && S + posOffset > cfg.maxPositions)
      throw new BertConfigError(`seqLen ${S} exceeds max_position_embeddings ${cfg.maxPositions}`);
    const positions =
      typeof S === 'number'
        ? g.constant(
            BigInt64Array.from({ length: S }, (_, i) => BigInt(i + posOffset)),
            [S],
          )
        : ops.rangeOf(ids, 1, posOffset);
    const sum = ops.add(
      ops.gather(W(`${e}.word_embeddings.weight`, [cfg.vocabSize, H]), ids),
      ops.gather(W(`${e}.position_embeddings.weight`, [cfg.maxPositions, H]), positions),
    );
    const tt = W(`${e}.token_type_embeddings.weight`, [cfg.typeVocabSize, H]);
    const typed = ops.add(
      sum,
      tokenTypeIds ? ops.gather(tt, tokenTypeIds) : ops.reshape(ops.slice(tt, [0], [1], [0]), [H]),
    );
    return drop(ln(typed, `${e}.LayerNorm`), hidP);
  }

  // Additive mask bias [B, 1, 1, S].
  const maskBias = ops.unsqueeze(ops.mul(ops.sub(1, ops.cast(attentionMask, 'float32')), MASK_MIN), [1, 2]);
  const clsOnly = opts.clsOnlyLastLayer ?? true;
  const scale = 1 / Math.sqrt(dh);
  const heads = (t: Value) => ops.transpose(ops.reshape(t, [0, 0, nh, dh]), [0, 2, 1, 3]);

  for (let l = from; l < to; l++) {
    layer = l;
    const p = `${pre}.encoder.layer.${l}`;
    const last = l === cfg.numLayers - 1;
    // With clsOnly, the last layer computes queries (and everything after) for row 0 only.
    const xq = last && clsOnly ? ops.slice(x, [0], [1], [1]) : x;
    const proj = (name: 'query' | 'key' | 'value', inp: Value) => {
      const out = lin(inp, `${p}.attention.self.${name}`, H, H);
      return opts.hooks?.projection
        ? opts.hooks.projection({ layer: l, graph: g, name, input: inp, output: out })
        : out;
    };
    const q = heads(proj('query', xq));
    const k = heads(proj('key', x));
    const v = heads(proj('value', x));
    let scores = ops.add(ops.matmul(q, k, { transB: true, alpha: scale }), maskBias);
    const prefix = opts.hooks?.prefix?.(l, g);
    let probs: Value;
    let ctx: Value;
    if (prefix) {
      const P = prefix.key.shape[0] as number;
      // [P, H] -> [nh, P, dh], broadcast over the batch in the matmuls.
      const ph = (t: Value) => ops.transpose(ops.reshape(t, [P, nh, dh]), [1, 0, 2]);
      const pk = ph(prefix.key);
      const pv = ph(prefix.value);
      const own = scores;
      scores = ops.concat([ops.matmul(q, pk, { transB: true, alpha: scale }), own], 3);
      probs = drop(ops.softmax(scores, -1), attP);
      const [pp, ps] = ops.split(probs, 3, [P, S], own);
      ctx = ops.add(ops.matmul(ps!, v), ops.matmul(pp!, pv));
    } else {
      probs = drop(ops.softmax(scores, -1), attP);
      ctx = ops.matmul(probs, v);
    }
    const merged = ops.reshape(ops.transpose(ctx, [0, 2, 1, 3]), [0, 0, H]);
    const attn = ln(
      ops.add(drop(lin(merged, `${p}.attention.output.dense`, H, H), hidP), xq),
      `${p}.attention.output.LayerNorm`,
    );
    const inter = activate(lin(attn, `${p}.intermediate.dense`, cfg.intermediateSize, H), cfg.hiddenAct ?? 'gelu');
    let ffnOut = drop(lin(inter, `${p}.output.dense`, H, cfg.intermediateSize), hidP);
    // The output LayerNorm's weights are made once: the hook's frozenOutput may use them too.
    const outLnW = W(`${p}.output.LayerNorm.weight`, [H]);
    const outLnB = W(`${p}.output.LayerNorm.bias`, [H]);
    const outLn = (v: Value) => ops.layerNorm(v, outLnW, outLnB, cfg.layerNormEps);
    if (opts.hooks?.ffn) {
      const h0 = ffnOut;
      let frozen: Value | undefined;
      const frozenOutput = () => (frozen ??= outLn(ops.add(h0, attn)));
      ffnOut = opts.hooks.ffn({ layer: l, graph: g, input: attn, output: ffnOut, frozenOutput });
    }
    x = outLn(ops.add(ffnOut, attn));
  }
  layer = cfg.numLayers;
  const hidden = x;
  const lastBuilt = to === cfg.numLayers && from < to;
  const cls = ops.reshape(clsOnly && lastBuilt ? hidden : ops.slice(hidden, [0], [1], [1]), [0, H]);

  const numLabels = to < cfg.numLayers ? 0 : (opts.numLabels ?? 2);
  let logits: Value | undefined;
  if (numLabels > 0) {
    if (cfg.flavour === 'bert') {
      // The fresh head's dense sits in the pooler's slot: without dropout (inference) both heads are
      // one graph, so its weights load, evaluate and export where the pooler's go.
      const x0 = opts.head === 'fresh' ? drop(cls, hidP) : cls;
      const pooled = ops.tanh(lin(x0, `${pre}.pooler.dense`, H, H));
      logits = lin(drop(pooled, hidP), 'classifier', numLabels, H);
    } else {
      const d = ops.tanh(lin(drop(cls, hidP), 'classifier.dense', H, H));
      logits = lin(drop(d, hidP), 'classifier.out_proj', numLabels, H);
    }
  }
  return { graph: g, inputIds, hiddenIn, attentionMask, tokenTypeIds, hidden, cls, logits, params };
}
