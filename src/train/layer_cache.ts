/**
 * Frozen-prefix caching (issue 3): when the lowest PEFT module sits in layer k, the layers below k
 * are frozen; if they are also deterministic (no dropout), their output for an example never
 * changes, so it is computed once and every epoch trains (and evaluates) from layer k on.
 *
 * Semantics: exact for USE-lite, whose encoder has no dropout at all (the cached rows equal the
 * full forward's up to float rounding of the batch shape). BERT/RoBERTa apply dropout in every
 * layer while training, so caching would change the model's training noise: they are not cached.
 * Memory: one row of `width` floats per token of every cached example; above `maxBytes` the
 * trainer does not cache and says so.
 */
import type { Backbone, LayerCache } from '../models/backbone.js';
import type { PeftConfig } from '../peft/config.js';

export const DEFAULT_CACHE_BYTES = 3e9;

/** The layer whose input can be cached for this config and backbone, or 0 (nothing to cache). */
export function cacheLayerFor(backbone: Backbone, cfg: PeftConfig | undefined, fullFineTune: boolean): number {
  if (backbone.kind !== 'use-lite' || fullFineTune || !cfg) return 0;
  const k = cfg.layers.indexOf(true);
  // No module anywhere caches nothing useful (the trial is refused upstream anyway).
  return k < 0 ? 0 : k;
}

export async function createLayerCache(backbone: Backbone, layer: number, threads?: number): Promise<LayerCache> {
  if (backbone.kind !== 'use-lite') throw new Error(`frozen-prefix caching is not supported for ${backbone.kind} backbones`);
  const { UseLiteBackbone, UseLiteLayerCache } = await import('../models/use_lite/backbone.js');
  if (!(backbone instanceof UseLiteBackbone)) throw new Error('frozen-prefix caching: not a USE-lite backbone instance');
  return new UseLiteLayerCache(backbone, layer, threads !== undefined ? { threads } : {});
}
