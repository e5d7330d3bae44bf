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
import type { TokenizedSet } from '../data/batching.js';
import type { Backbone, LayerCache } from '../models/backbone.js';
import type { PeftConfig } from '../peft/config.js';
import { cacheableLayer } from '../peft/types.js';
import type { HiddenRows } from './feeds.js';

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

export interface CacheEvent {
  kind: 'cache';
  layer: number;
  examples: number;
  bytes: number;
  seconds: number;
  /** Why the cache was not built (over `maxBytes`). */
  skipped?: string;
}

/** The token ids of every example of one stream of a tokenized set. */
const idsOf = (t: Pick<TokenizedSet, 'ids' | 'offsets'>, n: number) =>
  Array.from({ length: n }, (_, i) => Array.from(t.ids.subarray(t.offsets[i]!, t.offsets[i + 1]!)));

/**
 * The cached rows entering layer `layer`, per tokenized set (computed once per set; a siamese set's
 * second texts are cached too, by the same frozen layers).
 */
export class CachedRows {
  private readonly bySet = new WeakMap<TokenizedSet, HiddenRows>();

  constructor(readonly cache: LayerCache) {}

  get layer(): number {
    return this.cache.layer;
  }

  /** The rows of the examples tokenized as `tokens`, computed on first use. */
  async rows(tokens: TokenizedSet): Promise<HiddenRows> {
    let rows = this.bySet.get(tokens);
    if (!rows) {
      rows = { rows: await this.cache.compute(idsOf(tokens, tokens.n)), width: this.cache.width };
      if (tokens.second) rows.second = await this.cache.compute(idsOf(tokens.second, tokens.n));
      this.bySet.set(tokens, rows);
    }
    return rows;
  }

  release(): Promise<void> {
    return this.cache.release();
  }
}

/**
 * Builds the cache for training from layer `layer`: the rows of every set in `sets` (training and
 * evaluation examples), computed up front; or undefined, with a `skipped` event, when they would
 * take more than `maxBytes` (default `DEFAULT_CACHE_BYTES`).
 */
export async function openCachedRows(o: {
  backbone: Backbone;
  layer: number;
  /** The tokenized example sets. */
  sets: readonly TokenizedSet[];
  threads?: number | undefined;
  maxBytes?: number | undefined;
  onEvent?: ((e: CacheEvent) => void) | undefined;
}): Promise<CachedRows | undefined> {
  const t0 = performance.now();
  const candidate = createLayerCache(o.backbone, o.layer, o.threads);
  const tokens = (t: TokenizedSet) => t.ids.length + (t.second?.ids.length ?? 0);
  const bytes = o.sets.reduce((s, t) => s + tokens(t), 0) * candidate.width * 4;
  const limit = o.maxBytes ?? DEFAULT_CACHE_BYTES;
  const gb = (x: number) => (x / 1e9).toFixed(1);
  if (bytes > limit) {
    await candidate.release();
    const skipped = `the cache would take ${gb(bytes)} GB (limit ${gb(limit)} GB)`;
    o.onEvent?.({ kind: 'cache', layer: o.layer, examples: 0, bytes, seconds: 0, skipped });
    return undefined;
  }
  const cached = new CachedRows(candidate);
  for (const t of o.sets) await cached.rows(t);
  const examples = o.sets.reduce((s, t) => s + t.n, 0);
  o.onEvent?.({ kind: 'cache', layer: o.layer, examples, bytes, seconds: (performance.now() - t0) / 1000 });
  return cached;
}
