/** BERT / RoBERTa checkpoints as a `Backbone` (../types.ts), with the merged-export capability (./export.ts). */
import { buildBert } from './builder.js';
import { bertExportBackbone } from './export.js';
import type { BertConfig } from './config.js';
import type { EncoderConfig } from '../config.js';
import type { Tokenizer } from '../tokenizers/types.js';
import type { Dim } from '../../graph/ir.js';
import { seededNormal } from '../../core/random.js';
import { weightsFingerprint } from '../fingerprint.js';
import type {
  Backbone,
  BackboneDims,
  BuildClassifierOptions,
  ClassifierGraph,
  ExportBackbone,
  LayerCacheOptions,
} from '../types.js';
import { BertConfigError } from './config.js';
import { BertLayerCache } from './layer-cache.js';

export function bertConfigFromEncoder(c: EncoderConfig): BertConfig {
  return {
    vocabSize: c.vocabSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numHiddenLayers,
    numHeads: c.numAttentionHeads,
    intermediateSize: c.intermediateSize,
    maxPositions: c.maxPositionEmbeddings,
    typeVocabSize: c.typeVocabSize,
    layerNormEps: c.layerNormEps,
    hiddenDropout: c.hiddenDropoutProb,
    attentionDropout: c.attentionProbsDropoutProb,
    flavour: c.modelType,
    padTokenId: c.padTokenId,
    hiddenAct: c.hiddenAct,
  };
}

/** NOTE: head init as Hugging Face's BertPreTrainedModel._init_weights: N(0, 0.02), zero bias. */
function freshHead(
  names: readonly [string, number[]][],
  seed: number,
): Map<string, { data: Float32Array; shape: number[] }> {
  const rnd = seededNormal(seed);
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [name, shape] of names) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (!name.endsWith('.bias')) for (let i = 0; i < n; i++) data[i] = 0.02 * rnd();
    out.set(name, { data, shape });
  }
  return out;
}

export class BertBackbone implements Backbone {
  readonly kind: 'bert' | 'roberta';
  readonly dims: BackboneDims;
  readonly backboneParams: number;
  /** The pooler's dense (H·H + H), kept out of backboneParams; `paramDenominator: 'with-pooler'` adds it. */
  readonly poolerParams: number;
  readonly maxLength: number;
  /** Every layer applies dropout while training: caching needs `noDropoutBelow` (../types.ts). */
  readonly frozenLayerDropout = true;
  private readonly config: BertConfig;
  private hash: string | undefined;
  /** Weights under the builder's names (`bert.` / `roberta.` prefix). */
  private readonly weights: Map<string, { data: Float32Array; shape: readonly number[] }>;

  constructor(
    readonly id: string,
    encoder: EncoderConfig,
    canonical: ReadonlyMap<string, { data: Float32Array; shape: readonly number[] }>,
    readonly tokenizer: Tokenizer,
  ) {
    this.config = bertConfigFromEncoder(encoder);
    this.kind = this.config.flavour;
    this.dims = { numLayers: this.config.numLayers, hidden: this.config.hiddenSize, numHeads: this.config.numHeads };
    this.weights = new Map();
    let count = 0;
    for (const [name, t] of canonical) {
      this.weights.set(`${this.kind}.${name}`, t);
      if (!name.startsWith('pooler.')) count += t.data.length;
    }
    this.backboneParams = count;
    this.maxLength = encoder.maxSequenceLength;
    const H = this.config.hiddenSize;
    // NOTE: counted whether or not the checkpoint has one: the reference's model always builds a pooler.
    this.poolerParams = H * H + H;
    // BERT checkpoints without a pooler (e.g. from a masked-LM model) get a fresh one.
    if (this.kind === 'bert' && !this.weights.has('bert.pooler.dense.weight')) {
      for (const [k, v] of freshHead(
        [
          ['bert.pooler.dense.weight', [H, H]],
          ['bert.pooler.dense.bias', [H]],
        ],
        7,
      ))
        this.weights.set(k, v);
    }
  }

  private headShapes(numLabels: number): [string, number[]][] {
    const H = this.config.hiddenSize;
    return this.kind === 'bert'
      ? [
          ['classifier.weight', [numLabels, H]],
          ['classifier.bias', [numLabels]],
        ]
      : [
          ['classifier.dense.weight', [H, H]],
          ['classifier.dense.bias', [H]],
          ['classifier.out_proj.weight', [numLabels, H]],
          ['classifier.out_proj.bias', [numLabels]],
        ];
  }

  headParams(numLabels: number): number {
    // The trainable head: BERT's pooler + classifier, RoBERTa's classifier (dense + out_proj).
    const H = this.config.hiddenSize;
    const pooler = this.kind === 'bert' ? H * H + H : 0;
    return pooler + this.headShapes(numLabels).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
  }

  exportBackbone(opts: { seqLen: Dim; numLabels: number }): ExportBackbone {
    const weights = new Map(this.weights);
    for (const [k, v] of freshHead(this.headShapes(opts.numLabels), 0)) weights.set(k, v);
    return bertExportBackbone(this.config, weights, opts);
  }

  buildClassifier(opts: BuildClassifierOptions): ClassifierGraph {
    const weights = new Map(this.weights);
    // A fresh BERT head re-initialises the pooler's dense with the classifier (one seeded stream).
    const fresh = opts.head === 'fresh' && this.kind === 'bert';
    const H = this.config.hiddenSize;
    const shapes: [string, number[]][] = [
      ...(fresh
        ? ([
            ['bert.pooler.dense.weight', [H, H]],
            ['bert.pooler.dense.bias', [H]],
          ] as [string, number[]][])
        : []),
      ...this.headShapes(opts.numLabels),
    ];
    for (const [k, v] of freshHead(shapes, opts.seed)) {
      const saved = opts.headWeights?.get(k);
      weights.set(k, saved ? { data: saved.data, shape: v.shape } : v);
    }
    if (this.kind === 'bert' && !fresh) {
      for (const k of ['bert.pooler.dense.weight', 'bert.pooler.dense.bias']) {
        const saved = opts.headWeights?.get(k);
        if (saved) weights.set(k, { data: saved.data, shape: this.weights.get(k)!.shape });
      }
    }
    const isHead = (name: string) => name.startsWith('classifier') || name.includes('.pooler.');
    const from = opts.fromLayer ?? 0;
    if (from > 0 && opts.fullFineTune)
      throw new BertConfigError('fromLayer > 0 caches frozen layers; it cannot be combined with full fine-tuning');
    const built = buildBert({
      config: this.config,
      weights,
      seqLen: opts.seqLen,
      numLabels: opts.numLabels,
      hooks: opts.hooks,
      trainable: opts.fullFineTune ? (n) => !n.includes('.embeddings.') || isHead(n) : isHead,
      seed: opts.seed,
      ...(opts.dropout ? {} : { hiddenDropout: 0, attentionDropout: 0 }),
      ...(fresh ? { head: 'fresh' as const } : {}),
      ...(from > 0 ? { fromLayer: from } : {}),
      ...(opts.noDropoutBelow ? { noDropoutBelow: opts.noDropoutBelow } : {}),
    });
    const inputNames = [(built.hiddenIn ?? built.inputIds)!.name, built.attentionMask.name];
    if (built.tokenTypeIds) inputNames.push(built.tokenTypeIds.name);
    return { graph: built.graph, logits: built.logits!, inputNames, headParams: built.params };
  }

  /** Per-example cache of layer k's inputs; exact only for runs built with `noDropoutBelow: k`. */
  layerCache(k: number, opts: LayerCacheOptions = {}): BertLayerCache {
    return new BertLayerCache(this.config, this.weights, k, this.tokenizer.padId, this.maxLength, opts);
  }

  fingerprint(): string {
    this.hash ??= weightsFingerprint(JSON.stringify(this.config), this.weights);
    return this.hash;
  }
}
