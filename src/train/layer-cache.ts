/**
 * Frozen-prefix caching (issue 3): when the lowest PEFT module sits in layer k, the layers below k
 * are frozen; if they are also deterministic (no dropout), their output for an example never
 * changes, so it is computed once and every epoch trains (and evaluates) from layer k on.
 *
 * Semantics: exact for USE-lite, whose encoder has no dropout at all (the cached rows equal the
 * full forward's up to float rounding of the batch shape). BERT/RoBERTa apply dropout in every
 * layer while training, so they are cached only when the run switches dropout off below the lowest
 * adapted layer (`--frozen-dropout 0`, a deviation from the model's training noise).
 * Memory: one row of `width` floats per token of every cached example; above `maxBytes` the
 * trainer does not cache and says so. With a `PrefixStore` (./prefix-store.ts) the rows of a token
 * stream are computed once per study and shared by its trials (and pool workers).
 */
import type { TokenizedSet } from '../data/batching.js';
import type { Backbone, LayerCache } from '../models/backbone.js';
import type { PeftConfig } from '../peft/config.js';
import { cacheableLayer } from '../peft/types.js';
import type { HiddenRows } from './feeds.js';
import { type PrefixStore, type StreamTokens, streamKey } from './prefix-store.js';

export const DEFAULT_CACHE_BYTES = 3e9;

/**
 * The layer whose input can be cached for this config and backbone, or 0 (nothing to cache):
 * `cacheableLayer` (the lowest layer with a module) on backbones with the `layerCache` capability
 * whose frozen layers are deterministic: always for USE-lite, with `frozenDropoutOff` (dropout off
 * below that layer) for BERT/RoBERTa.
 */
export function cacheLayerFor(
  backbone: Backbone,
  cfg: PeftConfig | undefined,
  fullFineTune: boolean,
  frozenDropoutOff = false,
): number {
  if (!backbone.layerCache || (backbone.frozenLayerDropout && !frozenDropoutOff)) return 0;
  return cacheableLayer(cfg, fullFineTune);
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
  /** With a shared store: the token streams found there and those computed (then stored). */
  shared?: { hits: number; misses: number };
}

/** Per example of one stream of a tokenized set, the values of `data` (ids or type ids). */
const perExample = (
  data: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> },
  t: StreamTokens,
  n: number,
) => Array.from({ length: n }, (_, i) => Array.from(data.subarray(t.offsets[i]!, t.offsets[i + 1]!)));

/**
 * The cached rows entering layer `layer`, per tokenized set (computed once per set; a siamese set's
 * second texts are cached too, by the same frozen layers). With a store, each stream's rows are
 * looked up there first and put there once computed.
 */
export class CachedRows {
  private readonly bySet = new WeakMap<TokenizedSet, HiddenRows>();

  constructor(
    readonly cache: LayerCache,
    /** The study's shared rows, and the model's fingerprint that keys them. */
    private readonly shared?: { store: PrefixStore; model: string },
  ) {}

  get layer(): number {
    return this.cache.layer;
  }

  /** The rows of the examples tokenized as `tokens`, computed (or fetched from the store) on first use. */
  async rows(tokens: TokenizedSet): Promise<HiddenRows> {
    let rows = this.bySet.get(tokens);
    if (!rows) {
      rows = { rows: await this.stream(tokens, tokens.n), width: this.cache.width };
      // A siamese set's second texts carry no type ids (each text is its own sequence).
      if (tokens.second)
        rows.second = await this.stream({ ids: tokens.second.ids, offsets: tokens.second.offsets }, tokens.n);
      this.bySet.set(tokens, rows);
    }
    return rows;
  }

  private async stream(t: StreamTokens, n: number): Promise<Float32Array[]> {
    const key = this.shared && streamKey(this.shared.model, this.cache.layer, t);
    const stored = key && (await this.shared!.store.get(key, this.cache.width));
    if (stored && stored.length === n) return stored;
    const ids = perExample(t.ids, t, n);
    const rows = await this.cache.compute(ids, t.typeIds && perExample(t.typeIds, t, n));
    if (key) await this.shared!.store.put(key, rows, this.cache.width);
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
  /** Rows shared across trials (./prefix-store.ts); needs the backbone's `fingerprint`. */
  store?: PrefixStore | undefined;
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
  const fingerprint = o.store && o.backbone.fingerprint?.();
  const cached = new CachedRows(candidate, fingerprint ? { store: o.store!, model: fingerprint } : undefined);
  const before = o.store && { ...o.store.stats };
  for (const t of o.sets) await cached.rows(t);
  const examples = o.sets.reduce((s, t) => s + t.n, 0);
  const seconds = (performance.now() - t0) / 1000;
  const after = o.store?.stats;
  const shared =
    before && after && fingerprint
      ? {
          hits: after.memoryHits + after.diskHits - before.memoryHits - before.diskHits,
          misses: after.misses - before.misses,
        }
      : undefined;
  o.onEvent?.({ kind: 'cache', layer: o.layer, examples, bytes, seconds, ...(shared ? { shared } : {}) });
  return cached;
}
