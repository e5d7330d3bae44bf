/**
 * Batches to ONNX feeds and logits back to per-example predictions: the conversions every forward
 * program here needs (training steps, epoch evaluation, saved-adapter evaluation, export check).
 * The loss inputs (labels) are fed by ./loss.ts, next to the graph inputs it declares.
 */
import type { Batch } from '../data/batching.js';
import { argmaxRows } from '../data/metrics.js';
import { SECOND_TEXT_INPUTS } from '../models/types.js';
import { tensor, type ort } from '../runtime/session.js';
import { TrainingError } from './errors.js';

/**
 * The token feeds a graph names (`input_ids`, `attention_mask`, `token_type_ids`; a siamese model's
 * `input_ids_b`, `attention_mask_b` from the batch's second stream), int64 [batch, seq].
 */
export function tokenFeeds(b: Batch, names: readonly string[]): Record<string, ort.Tensor> {
  const f: Record<string, ort.Tensor> = {};
  for (const n of names) f[n] = tokenTensor(b, n);
  return f;
}

const tokenTensor = (b: Batch, name: string) => tensor('int64', tokenStream(b, name), [b.batch, b.seq]);

function tokenStream(b: Batch, name: string): BigInt64Array {
  if (name === SECOND_TEXT_INPUTS.ids || name === SECOND_TEXT_INPUTS.mask) {
    if (!b.second)
      throw new TrainingError(
        `the model takes sentence pairs one text at a time ('${name}') but the batch has one stream`,
      );
    return name === SECOND_TEXT_INPUTS.ids ? b.second.inputIds : b.second.attentionMask;
  }
  return name === 'input_ids' ? b.inputIds : name === 'attention_mask' ? b.attentionMask : b.tokenTypeIds;
}

/** Cached layer inputs (./layer-cache.ts): one row [tokens x width] per example, by example index. */
export interface HiddenRows {
  rows: readonly Float32Array[];
  width: number;
  /** Siamese sets: the second texts' rows. */
  second?: readonly Float32Array[];
}

/**
 * Every input a model graph names for one batch: the token feeds, and `hidden_in` [batch, seq,
 * width] (a graph that starts above the cached layers) assembled from the examples' cached rows,
 * each zero-padded to the batch's length.
 */
export function batchFeeds(b: Batch, names: readonly string[], hidden?: HiddenRows): Record<string, ort.Tensor> {
  const f: Record<string, ort.Tensor> = {};
  for (const n of names) {
    if (n !== 'hidden_in' && n !== SECOND_TEXT_INPUTS.hidden) {
      f[n] = tokenTensor(b, n);
      continue;
    }
    if (!hidden) throw new TrainingError('the model starts at a cached layer but no cached rows were given');
    const rows = n === 'hidden_in' ? hidden.rows : hidden.second;
    if (!rows) throw new TrainingError(`the model reads '${n}' but the cached rows hold one text per example`);
    const w = hidden.width;
    const data = new Float32Array(b.batch * b.seq * w);
    b.indices.forEach((ex, r) => {
      data.set(rows[ex]!, r * b.seq * w);
    });
    f[n] = tensor('float32', data, [b.batch, b.seq, w]);
  }
  return f;
}

/**
 * Predictions of `n` examples from their outputs `logits` [n, numLabels] (example order): the
 * regression output, or the argmax class of each row.
 */
export function predictionsOf(logits: Float32Array, n: number, numLabels: number, regression: boolean): Float64Array {
  return Float64Array.from(regression ? logits : argmaxRows(logits, n, numLabels));
}
