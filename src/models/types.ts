/**
 * The backbone contract: what the trainer, the PEFT room and the exporter see of an encoder.
 * BERT/RoBERTa (./bert/backbone.ts) and USE-lite (./use-lite/backbone.ts) implement `Backbone`;
 * `loadBackbone` (./backbone.ts) picks one. PEFT modules plug into every encoder through the same
 * hooks (`EncoderHooks`: ffn, prefix, projection) and size themselves from `BackboneDims`.
 * Capabilities only some backbones have (a merged export, frozen-prefix caching) are optional
 * methods: callers test for the method, never for a class.
 */
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
  attentionWidths?: readonly number[];
}

/** The attention width of `layer`: `dims.attentionWidths[layer]`, else `dims.hidden`. */
export function attentionWidth(dims: Pick<BackboneDims, 'hidden' | 'attentionWidths'>, layer: number): number {
  return dims.attentionWidths?.[layer] ?? dims.hidden;
}

/** Every layer's attention width (`hidden` where `attentionWidths` is absent). */
export function attentionWidthsOf(dims: Pick<BackboneDims, 'numLayers' | 'hidden' | 'attentionWidths'>): number[] {
  return Array.from({ length: dims.numLayers }, (_, l) => attentionWidth(dims, l));
}

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
  seqLen: number;
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
}

/** Computes, once per example, the input of a frozen layer k (rows `T_i x width`). */
export interface LayerCache {
  readonly layer: number;
  readonly width: number;
  compute(ids: readonly (readonly number[])[]): Promise<Float32Array[]>;
  release(): Promise<void>;
}

export interface LayerCacheOptions extends SessionConfig {
  /** Examples per forward while filling the cache (default 64). */
  batchSize?: number;
  /** Sequence lengths are rounded up to a multiple of this (default 16). */
  seqBucket?: number;
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
  readonly tokenizer: Tokenizer;
  /** Longest input the model takes (special tokens included). */
  readonly maxLength: number;
  /** Parameter count of the head for `numLabels` (exact trainable count = PEFT + head). */
  headParams(numLabels: number): number;
  buildClassifier(opts: BuildClassifierOptions): ClassifierGraph;
  /**
   * Merged-export capability: the frozen backbone with a placeholder head of the right shape at a
   * static length, or a symbolic one (a string such as 'sequence': any length up to `maxLength`).
   * Absent: this backbone cannot be exported.
   */
  exportBackbone?(opts: { seqLen: Dim; numLabels: number }): ExportBackbone;
  /**
   * Frozen-prefix caching capability: a per-example cache of layer `layer`'s inputs (pair with
   * `buildClassifier({ fromLayer: layer })`). Only backbones whose frozen layers are
   * deterministic offer it (USE-lite; BERT/RoBERTa apply dropout in every layer).
   */
  layerCache?(layer: number, opts?: LayerCacheOptions): LayerCache;
}
