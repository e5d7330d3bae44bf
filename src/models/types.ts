/**
 * The backbone contract: what the trainer, the PEFT room and the exporter see of an encoder.
 * BERT/RoBERTa (./bert/backbone.ts) and USE-lite (./use-lite/backbone.ts) implement `Backbone`;
 * `loadBackbone` (./backbone.ts) picks one. PEFT modules plug into every encoder through the same
 * hooks (`EncoderHooks`: ffn, prefix, projection) and size themselves from `BackboneDims`.
 * Capabilities only some backbones have (a merged export, frozen-prefix caching, siamese pair
 * encoding) are optional members: callers test for the member, never for a class.
 */
import { UserError } from '../core/errors.js';
import type { Dim, Graph, Value } from '../graph/ir.js';
import type { SessionConfig } from '../runtime/session.js';
import type { Tokenizer } from './tokenizers/types.js';

/** Weights by name, row-major. */
export type WeightMap = ReadonlyMap<string, { data: Float32Array; shape: readonly number[] }>;

export interface FfnHookContext {
  layer: number;
  graph: Graph;
  /** FFN input [B, S', H] (the attention sublayer's LayerNorm output). */
  input: Value;
  /** FFN output [B, S', H] before the residual add and LayerNorm. */
  output: Value;
  /**
   * The layer's output as the frozen model computes it, built on first call: the unmodified FFN
   * output + the residual, through the layer's frozen LayerNorm (BERT/RoBERTa; pre-LN encoders: no
   * norm). The reference's serial adapter (saForm 'pfeiffer') reads it. Absent: not offered.
   */
  frozenOutput?: () => Value;
}

export interface ProjectionHookContext {
  layer: number;
  graph: Graph;
  name: 'query' | 'key' | 'value';
  /** Projection input [B, S', w_l]. */
  input: Value;
  /** The frozen (or trainable) projection's output [B, S', w_l]. */
  output: Value;
}

/**
 * Where PEFT modules plug into an encoder (the caller creates their params on the graph):
 * - `ffn`: sees the FFN sublayer's input and output and returns the output to use (a serial
 *   adapter transforms `output`, a parallel adapter adds a branch from `input`);
 * - `prefix`: extra key/value rows [P, w_l] per layer (prefix-tuning), always attended;
 * - `projection`: wraps the query/key/value projections (LoRA adds x A^T B^T * scale).
 */
export interface EncoderHooks {
  ffn?: (ctx: FfnHookContext) => Value;
  prefix?: (layer: number, graph: Graph) => { key: Value; value: Value } | undefined;
  projection?: (ctx: ProjectionHookContext) => Value;
}

/** The dimensions PEFT modules are sized from. */
export interface BackboneDims {
  numLayers: number;
  /** Hidden size H (the residual stream: adapter width, prefix embedding width). */
  hidden: number;
  numHeads: number;
  /**
   * Width w_l of each layer's attention (q/k/v projections: LoRA's A [r, w_l] and B [w_l, r];
   * prefix rows [P, w_l]), one per layer. Absent: `hidden` in every layer (BERT/RoBERTa).
   * USE-lite: [256, 512].
   */
  attentionWidths?: readonly number[] | undefined;
}

/** The attention width of `layer`: `dims.attentionWidths[layer]`, else `dims.hidden`. */
export function attentionWidth(dims: Pick<BackboneDims, 'hidden' | 'attentionWidths'>, layer: number): number {
  return dims.attentionWidths?.[layer] ?? dims.hidden;
}

/** Every layer's attention width (`hidden` where `attentionWidths` is absent). */
export function attentionWidthsOf(dims: Pick<BackboneDims, 'numLayers' | 'hidden' | 'attentionWidths'>): number[] {
  return Array.from({ length: dims.numLayers }, (_, l) => attentionWidth(dims, l));
}

/**
 * How a sentence-pair example reaches the encoder:
 * - `cross`: one sequence `a [SEP] b` pooled into one vector (BERT/RoBERTa; the AutoPEFT paper);
 * - `siamese`: each text encoded on its own by the same encoder and the same PEFT modules (in one
 *   graph), the head reading both vectors (Sentence-BERT; bi-encoders such as USE-lite).
 * Single-text tasks are encoded the same way under both.
 */
export type PairEncoding = 'cross' | 'siamese';
export const PAIR_ENCODINGS: readonly PairEncoding[] = ['cross', 'siamese'];

/**
 * The siamese head over u, v (the two texts' vectors):
 * - `linear`: one linear layer over [u, v, |u - v|, u * v] (classification or regression);
 * - `mlp`: a hidden layer (tanh) over the same features, then the linear layer;
 * - `cosine`: regression only, `w cos(u, v) + b` with MSE (Sentence-BERT's regression objective;
 *   w, b start at the label range's width and low end).
 */
export type PairHead = 'linear' | 'mlp' | 'cosine';
/**
 * The classification head of a BERT/RoBERTa classifier: `pooler` = the pretrained pooler (BERT) or
 * the usual classifier (RoBERTa); `fresh` = dropout -> dense(H, H) -> tanh -> dropout -> linear on
 * [CLS], all N(0, 0.02) with zero biases, the pooler unused (the AutoPEFT reference's head).
 */
export type ClassifierHead = 'pooler' | 'fresh';
export const CLASSIFIER_HEADS: readonly ClassifierHead[] = ['pooler', 'fresh'];
export const PAIR_HEADS: readonly PairHead[] = ['linear', 'mlp', 'cosine'];

/** Graph input names of a siamese pair's second text (the first keeps the usual names). */
export const SECOND_TEXT_INPUTS = {
  ids: 'input_ids_b',
  mask: 'attention_mask_b',
  hidden: 'hidden_in_b',
} as const;

export interface ClassifierGraph {
  graph: Graph;
  /** [batch, numLabels] (numLabels = 1 for regression). */
  logits: Value;
  /** Names of the graph's data inputs (input_ids, attention_mask, maybe token_type_ids). */
  inputNames: string[];
  /** The head's trainable params (PEFT params are created by the hooks). */
  headParams: Value[];
}

export interface BuildClassifierOptions {
  /** A static length, or a symbol (e.g. 'seq'): one program for every padded length. */
  seqLen: Dim;
  numLabels: number;
  hooks?: EncoderHooks | undefined;
  /** Seed of the fresh head and of the dropout sites. */
  seed: number;
  /** Dropout on (training) or off. */
  dropout: boolean;
  /** Saved head weights to start from (evaluation of a trained adapter), by head param name. */
  headWeights?: ReadonlyMap<string, { data: Float32Array }> | undefined;
  /** Train the whole backbone too (full fine-tuning baseline). */
  fullFineTune?: boolean | undefined;
  /**
   * Frozen-prefix caching: start at layer k from its cached input (`hidden_in` [batch, seq,
   * width]) instead of token ids. Only backbones with `layerCache` support k > 0.
   */
  fromLayer?: number | undefined;
  /**
   * No dropout in the layers below this one (and the embeddings) while training: the frozen
   * prefix becomes deterministic, hence cacheable (`--frozen-dropout 0`; backbones with
   * `frozenLayerDropout`). Default 0.
   */
  noDropoutBelow?: number | undefined;
  /**
   * `siamese`: a pair model (two token streams, `SECOND_TEXT_INPUTS` beside the usual inputs, the
   * head over both texts' vectors); only backbones listing it in `pairEncodings`. Default (and
   * `cross`): one stream.
   */
  pairEncoding?: PairEncoding | undefined;
  /** Siamese head (default `backbone.defaultPairHead(regression)`); numLabels 1 = regression. */
  pairHead?: PairHead | undefined;
  /** Regression targets' range [low, high]: the `cosine` head's initial mapping. Default [0, 1]. */
  labelRange?: readonly [number, number] | undefined;
  /** BERT/RoBERTa head (default `pooler`); backbones without a pooler take only `pooler`. */
  head?: ClassifierHead | undefined;
}

/** Computes, once per example, the input of a frozen layer k (rows `T_i x width`). */
export interface LayerCache {
  readonly layer: number;
  readonly width: number;
  /** Rows of each example from its token ids (and token type ids, where the model reads them). */
  compute(ids: readonly (readonly number[])[], typeIds?: readonly (readonly number[])[]): Promise<Float32Array[]>;
  release(): Promise<void>;
}

export interface LayerCacheOptions extends SessionConfig {
  /** Examples per forward while filling the cache (default 64). */
  batchSize?: number;
  /** Sequence lengths are rounded up to a multiple of this (default 16). */
  seqBucket?: number;
}

/** What `Backbone.exportBackbone` builds. */
export interface ExportBackboneOptions {
  seqLen: Dim;
  numLabels: number;
  /**
   * `siamese`: a two-input pair model (`SECOND_TEXT_INPUTS` ids and mask beside the usual inputs,
   * the head over both texts' vectors); only backbones listing it in `pairEncodings`. Default `cross`.
   */
  pairEncoding?: PairEncoding | undefined;
  /** The siamese head the adapter was trained with (default `linear`). */
  pairHead?: PairHead | undefined;
}

/**
 * A backbone as a merged export takes it (src/peft/export.ts composes it with the adapter): frozen
 * weights (head included, replaced by the adapter's) and a builder at a static length.
 */
export interface ExportBackbone {
  dims: BackboneDims;
  /** The frozen backbone weights, head included (the adapter's head weights replace those). */
  weights: WeightMap;
  /**
   * Weight name of layer `layer`'s query/value projection ([w, w], [out, in], w = the layer's
   * attention width from `dims`), for merging LoRA.
   */
  projectionWeightName(layer: number, target: 'query' | 'value'): string;
  /** Builds the inference graph (dropout off, nothing trainable) from `weights` with `hooks`. */
  build(weights: WeightMap, hooks: EncoderHooks): { graph: Graph; logits: Value };
}

export interface Backbone {
  /** What the user passed: 'use-lite', a folder or a hub id. */
  readonly id: string;
  readonly kind: 'bert' | 'roberta' | 'use-lite';
  readonly dims: BackboneDims;
  /** Parameter count of the encoder without any head (the paper's param-% denominator). */
  readonly backboneParams: number;
  /**
   * Parameters of the pooler outside `backboneParams` (BERT/RoBERTa: H·H + H); the reference's
   * param-% denominator counts them (`paramDenominator: 'with-pooler'`). Absent: no pooler.
   */
  readonly poolerParams?: number;
  readonly tokenizer: Tokenizer;
  /** Longest input the model takes (special tokens included). */
  readonly maxLength: number;
  /**
   * Parameter count of the head for `numLabels` (exact trainable count = PEFT + head); with
   * `pair`, of that siamese head. The param % (PEFT / backbone) does not depend on it.
   */
  headParams(numLabels: number, pair?: { encoding: PairEncoding; head: PairHead }): number;
  /**
   * Pair-encoding capability: the encodings this backbone builds, its default first. Absent:
   * `['cross']` only.
   */
  readonly pairEncodings?: readonly PairEncoding[];
  /** The siamese head used when none is asked for (classification or regression). */
  defaultPairHead?(regression: boolean): PairHead;
  buildClassifier(opts: BuildClassifierOptions): ClassifierGraph;
  /**
   * Merged-export capability: the frozen backbone with a placeholder head of the right shape at a
   * static length, or a symbolic one (a string such as 'sequence': any length up to `maxLength`).
   * Absent: this backbone cannot be exported.
   */
  exportBackbone?(opts: ExportBackboneOptions): ExportBackbone;
  /**
   * Frozen-prefix caching capability: a per-example cache of layer `layer`'s inputs (pair with
   * `buildClassifier({ fromLayer: layer })`). Only backbones whose frozen layers are
   * deterministic offer it: USE-lite always; BERT/RoBERTa (`frozenLayerDropout`) only when the
   * run switches dropout off below the cached layer (`noDropoutBelow`).
   */
  layerCache?(layer: number, opts?: LayerCacheOptions): LayerCache;
  /**
   * True when the encoder's layers apply dropout while training: their cached outputs equal the
   * trained model's only with `noDropoutBelow` (BERT/RoBERTa). Absent: no dropout (USE-lite).
   */
  readonly frozenLayerDropout?: boolean;
  /**
   * A content hash of the frozen weights (hex), computed once: what a cache shared across trials
   * and processes keys the model by (two folders with the same weights share entries).
   */
  fingerprint?(): string;
}

/** Thrown for a pair encoding the backbone cannot build. */
export class PairEncodingError extends UserError {}

/**
 * The pair encoding to use: `requested` when the backbone offers it (a one-line error naming
 * --pair-encoding otherwise), else the backbone's default (`cross` without the capability).
 */
export function resolvePairEncoding(
  backbone: Pick<Backbone, 'kind' | 'pairEncodings'>,
  requested?: PairEncoding | string,
): PairEncoding {
  const offered = backbone.pairEncodings ?? ['cross'];
  if (requested === undefined) return offered[0]!;
  if (!(PAIR_ENCODINGS as readonly string[]).includes(requested))
    throw new PairEncodingError(`--pair-encoding must be one of ${PAIR_ENCODINGS.join(', ')}, got '${requested}'`);
  if (!offered.includes(requested as PairEncoding))
    throw new PairEncodingError(
      `--pair-encoding ${requested}: ${backbone.kind} backbones encode pairs as ${offered.join(' or ')} only; drop the flag or pass --pair-encoding ${offered[0]}`,
    );
  return requested as PairEncoding;
}
