/**
 * Tokenized, padded batches ready to become ONNX tensors.
 *
 * - Each example is tokenized once per (examples array, tokenizer, maxLength) and cached; example
 *   arrays are treated as immutable (pass a new array after changing one).
 * - Training order: a seeded permutation per epoch (seed, epoch), cut into buckets of
 *   `bucketSize` examples (a multiple of batchSize, default 32 batches), each bucket sorted by
 *   length and cut into batches, then the batch order shuffled. Batches hold examples of similar
 *   length, so padding is small, while every epoch still sees a fresh random order.
 * - Evaluation order (shuffle false): all examples sorted by length (ties in original order);
 *   `indices` maps each batch row back to its example.
 * - Padding: 'dynamic' pads each batch to its longest example, optionally rounded up to a
 *   multiple of `padToMultipleOf` (capped at maxLength). NOTE: the default is 1 (exact): on CPU
 *   the step cost grows with seq, and on SST-2 train (whitespace tokens, batch 32, maxLength 64,
 *   bucketed) exact padding keeps 93% of positions real vs 73% with multiples of 8 (30% random
 *   batches, 18% fixed). Use 8 for GPUs / fewer distinct shapes. 'fixed' pads every batch to
 *   maxLength, for sessions built with a static sequence dimension.
 *
 * Tensors (row-major, batch x seq): inputIds int64, attentionMask int64 (1 = token, 0 = pad; the
 * dtype Hugging Face's ONNX exports take), tokenTypeIds int64, labels int64 (classification) or
 * float32 (regression), length batch.
 *
 * Siamese pairs (`pairEncoding: 'siamese'`, models/types.ts `PairEncoding`): each text of a pair is
 * tokenized on its own (each truncated to maxLength), giving two token streams; a batch carries the
 * second one in `second`, padded to the same `seq`, and lengths for bucketing, sorting and padding
 * are the longer text's. Examples without a second text get an empty one. `cross` (default): one
 * sequence per example, the tokenizer joining the pair.
 */
import type { Tokenizer } from '../models/tokenizers/types.js';
import type { PairEncoding } from '../models/types.js';
import { DataError } from './errors.js';
import { Rng } from '../core/random.js';
import type { Example } from './tasks/types.js';

/** Token ids of example i are ids[offsets[i] .. offsets[i+1]), lengths[i] of them. */
export interface TokenStream {
  ids: Int32Array;
  offsets: Int32Array;
  lengths: Int32Array;
}

export interface TokenizedSet {
  n: number;
  maxLength: number;
  /** Token ids of example i are ids[offsets[i] .. offsets[i+1]). */
  ids: Int32Array;
  /** Token type (segment) ids, same layout as ids. */
  typeIds: Uint8Array;
  /** n + 1 offsets into ids / typeIds. */
  offsets: Int32Array;
  /** Token count of each example (n). */
  lengths: Int32Array;
  /** Labels (n), float64 copy. */
  labels: Float64Array;
  /**
   * Siamese sets: the second texts' stream (same layout as ids / offsets / lengths above, which
   * then hold the first texts alone).
   */
  second?: TokenStream;
  /** Per example, the length batches sort and pad by: `lengths`, or the longer text's (siamese). */
  longest: Int32Array;
}

const tokenCache = new WeakMap<readonly Example[], WeakMap<Tokenizer, Map<string, TokenizedSet>>>();

/** One text per example: ids laid end to end with n + 1 offsets. */
function packStream(n: number, encode: (i: number) => number[]): TokenStream {
  const offsets = new Int32Array(n + 1);
  const lengths = new Int32Array(n);
  const chunks: number[][] = new Array(n);
  for (let i = 0; i < n; i++) {
    chunks[i] = encode(i);
    lengths[i] = chunks[i]!.length;
    offsets[i + 1] = offsets[i]! + lengths[i]!;
  }
  const ids = new Int32Array(offsets[n]!);
  for (let i = 0; i < n; i++) ids.set(chunks[i]!, offsets[i]);
  return { ids, offsets, lengths };
}

/**
 * Tokenize every example (truncating to maxLength), once: later calls return the cached set.
 * `siamese`: each text of a pair on its own (two streams).
 */
export function tokenizeExamples(
  examples: readonly Example[],
  tokenizer: Tokenizer,
  maxLength: number,
  pairEncoding: PairEncoding = 'cross',
): TokenizedSet {
  if (!(Number.isInteger(maxLength) && maxLength > 0))
    throw new DataError(`maxLength must be a positive integer, got ${maxLength}; fix: e.g. --max-length 128`);
  let byTok = tokenCache.get(examples);
  if (byTok === undefined) tokenCache.set(examples, (byTok = new WeakMap()));
  let byLen = byTok.get(tokenizer);
  if (byLen === undefined) byTok.set(tokenizer, (byLen = new Map()));
  const key = `${maxLength}:${pairEncoding}`;
  const hit = byLen.get(key);
  if (hit !== undefined) return hit;
  const set =
    pairEncoding === 'siamese'
      ? tokenizeSiamese(examples, tokenizer, maxLength)
      : tokenizeCross(examples, tokenizer, maxLength);
  byLen.set(key, set);
  return set;
}

function tokenizeCross(examples: readonly Example[], tokenizer: Tokenizer, maxLength: number): TokenizedSet {
  const n = examples.length;
  const types: number[][] = new Array(n);
  const stream = packStream(n, (i) => {
    const ex = examples[i]!;
    const enc = tokenizer.encode(ex.text, ex.pair, maxLength);
    if (enc.inputIds.length > maxLength || enc.tokenTypeIds.length !== enc.inputIds.length) {
      throw new Error(
        `tokenizer broke its contract on example ${i}: ${enc.inputIds.length} ids (max ${maxLength}), ${enc.tokenTypeIds.length} type ids`,
      );
    }
    types[i] = enc.tokenTypeIds;
    return enc.inputIds;
  });
  const typeIds = new Uint8Array(stream.ids.length);
  for (let i = 0; i < n; i++) typeIds.set(types[i]!, stream.offsets[i]);
  const labels = Float64Array.from(examples, (ex) => ex.label);
  return { n, maxLength, ...stream, typeIds, labels, longest: stream.lengths };
}

function tokenizeSiamese(examples: readonly Example[], tokenizer: Tokenizer, maxLength: number): TokenizedSet {
  const n = examples.length;
  const encode = (text: string, i: number): number[] => {
    const enc = tokenizer.encode(text, undefined, maxLength);
    if (enc.inputIds.length > maxLength)
      throw new Error(`tokenizer broke its contract on example ${i}: ${enc.inputIds.length} ids (max ${maxLength})`);
    return enc.inputIds;
  };
  const first = packStream(n, (i) => encode(examples[i]!.text, i));
  const second = packStream(n, (i) => encode(examples[i]!.pair ?? '', i));
  const longest = first.lengths.map((l, i) => Math.max(l, second.lengths[i]!));
  const labels = Float64Array.from(examples, (ex) => ex.label);
  // Single-text models read token types; siamese ones do not: all zero.
  const typeIds = new Uint8Array(first.ids.length);
  return { n, maxLength, ...first, typeIds, labels, second, longest };
}

export interface Batch {
  batch: number;
  seq: number;
  /** batch x seq */
  inputIds: BigInt64Array;
  /** batch x seq; 1 for tokens, 0 for padding */
  attentionMask: BigInt64Array;
  /** batch x seq */
  tokenTypeIds: BigInt64Array;
  /** batch: class indices (int64) or regression targets (float32) */
  labels: BigInt64Array | Float32Array;
  /** batch: the example index of each row */
  indices: Int32Array;
  /** Siamese batches: the second texts, batch x seq (the same seq as the first). */
  second?: { inputIds: BigInt64Array; attentionMask: BigInt64Array };
}

export interface BatchingOptions {
  batchSize: number;
  maxLength: number;
  /** 'dynamic' (default) or 'fixed' (always maxLength). */
  padding?: 'dynamic' | 'fixed';
  /** Dynamic padding rounds the longest length up to a multiple of this (default 1 = exact; 8 for GPUs). */
  padToMultipleOf?: number;
  /** Seeded random order per epoch (training); false: sorted by length (evaluation). Default true. */
  shuffle?: boolean;
  seed?: number;
  /** Examples per length bucket when shuffling; rounded up to a multiple of batchSize. Default 32 x batchSize. */
  bucketSize?: number;
  /** Drop a final batch smaller than batchSize (training only). Default false. */
  dropLast?: boolean;
  /** Labels as float32 regression targets instead of int64 class indices. */
  regression?: boolean;
  /** 'siamese': two token streams per pair (see the file comment). Default 'cross'. */
  pairEncoding?: PairEncoding;
}

/** Batches over a fixed example set, tokenized once. */
export class Batcher {
  readonly tokens: TokenizedSet;
  private readonly opts: Required<BatchingOptions>;
  private readonly padId: number;

  constructor(examples: readonly Example[], tokenizer: Tokenizer, options: BatchingOptions) {
    const { batchSize, maxLength } = options;
    if (!(Number.isInteger(batchSize) && batchSize > 0))
      throw new DataError(`batchSize must be a positive integer, got ${batchSize}; fix: e.g. --batch-size 32`);
    const mult = options.padToMultipleOf ?? 1;
    if (!(Number.isInteger(mult) && mult > 0))
      throw new DataError(
        `padToMultipleOf must be a positive integer, got ${mult}; fix: use 8, or 1 for exact padding`,
      );
    const bucket = Math.ceil((options.bucketSize ?? 32 * batchSize) / batchSize) * batchSize;
    this.opts = {
      batchSize,
      maxLength,
      padding: options.padding ?? 'dynamic',
      padToMultipleOf: mult,
      shuffle: options.shuffle ?? true,
      seed: options.seed ?? 0,
      bucketSize: Math.max(bucket, batchSize),
      dropLast: options.dropLast ?? false,
      regression: options.regression ?? false,
      pairEncoding: options.pairEncoding ?? 'cross',
    };
    this.tokens = tokenizeExamples(examples, tokenizer, maxLength, this.opts.pairEncoding);
    this.padId = tokenizer.padId;
    if (!this.opts.regression) {
      const bad = this.tokens.labels.findIndex((l) => !Number.isInteger(l) || l < 0);
      if (bad >= 0)
        throw new DataError(
          `example ${bad} has label ${this.tokens.labels[bad]}, not a class index; fix: pass regression: true for a regression task`,
        );
    }
  }

  get size(): number {
    return this.tokens.n;
  }

  /** Number of batches one epoch yields. */
  get numBatches(): number {
    const { n } = this.tokens;
    const { batchSize, dropLast, shuffle } = this.opts;
    return dropLast && shuffle ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  }

  /** Example indices of each batch of `epoch` (the order `batches(epoch)` yields). */
  plan(epoch = 0): Int32Array[] {
    const { n, longest: lengths } = this.tokens;
    const { batchSize, bucketSize, shuffle, dropLast, seed } = this.opts;
    const out: Int32Array[] = [];
    if (!shuffle) {
      const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
      for (let s = 0; s < n; s += batchSize) out.push(order.slice(s, Math.min(n, s + batchSize)));
      return out;
    }
    const rng = new Rng(seed, epoch);
    const perm = rng.permutation(n);
    for (let b = 0; b < n; b += bucketSize) {
      const bucket = perm.slice(b, Math.min(n, b + bucketSize));
      // Sort by length; typed-array sort is stable (ES2019), so ties keep their random order.
      bucket.sort((x, y) => lengths[x] - lengths[y]);
      for (let s = 0; s < bucket.length; s += batchSize)
        out.push(bucket.slice(s, Math.min(bucket.length, s + batchSize)));
    }
    if (dropLast && out.length > 0 && out[out.length - 1].length < batchSize) out.pop();
    return rng.shuffle(out);
  }

  /** The batches of one epoch. */
  *batches(epoch = 0): Generator<Batch> {
    for (const idx of this.plan(epoch)) yield this.makeBatch(idx);
  }

  /** Build one padded batch from example indices. */
  makeBatch(indices: Int32Array): Batch {
    const { typeIds, offsets, lengths, labels, second } = this.tokens;
    const { padding, padToMultipleOf, maxLength, regression } = this.opts;
    const b = indices.length;
    let longest = 1;
    for (const i of indices) longest = Math.max(longest, this.tokens.longest[i]);
    const seq =
      padding === 'fixed' ? maxLength : Math.min(maxLength, Math.ceil(longest / padToMultipleOf) * padToMultipleOf);
    const { inputIds, attentionMask } = this.padStream(this.tokens, indices, seq);
    const tokenTypeIds = new BigInt64Array(b * seq);
    const lab = regression ? new Float32Array(b) : new BigInt64Array(b);
    for (let r = 0; r < b; r++) {
      const ex = indices[r];
      const o = offsets[ex];
      for (let t = 0; t < lengths[ex]; t++) tokenTypeIds[r * seq + t] = BigInt(typeIds[o + t]);
      if (lab instanceof Float32Array) lab[r] = labels[ex];
      else lab[r] = BigInt(labels[ex]);
    }
    const out: Batch = {
      batch: b,
      seq,
      inputIds,
      attentionMask,
      tokenTypeIds,
      labels: lab,
      indices: Int32Array.from(indices),
    };
    if (second) out.second = this.padStream(second, indices, seq);
    return out;
  }

  /** One stream's ids and mask for `indices`, padded to `seq`. */
  private padStream(
    s: TokenStream,
    indices: Int32Array,
    seq: number,
  ): { inputIds: BigInt64Array; attentionMask: BigInt64Array } {
    const inputIds = new BigInt64Array(indices.length * seq).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(indices.length * seq);
    indices.forEach((ex, r) => {
      const o = s.offsets[ex]!;
      for (let t = 0; t < s.lengths[ex]!; t++) {
        inputIds[r * seq + t] = BigInt(s.ids[o + t]!);
        attentionMask[r * seq + t] = 1n;
      }
    });
    return { inputIds, attentionMask };
  }
}

/** Real tokens / all positions (tokens + padding) over a set of batches, in (0, 1]. */
export function paddingEfficiency(batches: Iterable<Batch>): number {
  let real = 0;
  let all = 0;
  for (const b of batches) {
    for (const mask of b.second ? [b.attentionMask, b.second.attentionMask] : [b.attentionMask]) {
      all += b.batch * b.seq;
      for (const m of mask) real += Number(m);
    }
  }
  return all === 0 ? 1 : real / all;
}

/**
 * Put per-batch outputs back in example order: `rows` is batch x width for the example indices
 * `indices`; `target` is n x width.
 */
export function scatterRows(
  target: Float32Array | Float64Array,
  width: number,
  indices: Int32Array,
  rows: ArrayLike<number>,
): void {
  if (rows.length !== indices.length * width)
    throw new Error(`scatterRows: ${rows.length} values for ${indices.length} rows of width ${width}`);
  for (let r = 0; r < indices.length; r++) {
    const dst = indices[r] * width;
    for (let j = 0; j < width; j++) target[dst + j] = rows[r * width + j];
  }
}
