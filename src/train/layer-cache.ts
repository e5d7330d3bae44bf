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
import { cacheableLayer } from '../peft/types.js';

export const DEFAULT_CACHE_BYTES = 3e9;

/**
 * The layer whose input can be cached for this config and backbone, or 0 (nothing to cache):
 * `cacheableLayer` (the lowest layer with a module) on backbones with the `layerCache` capability.
 */
export function cacheLayerFor(backbone: Backbone, cfg: PeftConfig | undefined, fullFineTune: boolean): number {
  return backbone.layerCache ? cacheableLayer(cfg, fullFineTune) : 0;
}

export function createLayerCache(backbone: Backbone, layer: number, threads?: number): LayerCache {
  if (!backbone.layerCache) throw new Error(`frozen-prefix caching is not supported for ${backbone.kind} backbones`);
  return backbone.layerCache(layer, threads !== undefined ? { threads } : {});
}
