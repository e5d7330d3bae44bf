/**
 * Batches to ONNX feeds and logits back to per-example predictions: the two conversions every
 * forward program here needs (training steps, epoch evaluation, saved-adapter evaluation, export check).
 */
import { scatterRows, type Batch } from '../data/batching.js';
import { argmaxRows } from '../data/metrics.js';
import { tensor, type ort } from '../runtime/session.js';

/** The token feeds a graph names (`input_ids`, `attention_mask`, `token_type_ids`), int64 [batch, seq]. */
export function tokenFeeds(b: Batch, names: readonly string[]): Record<string, ort.Tensor> {
  const f: Record<string, ort.Tensor> = {};
  for (const n of names)
    f[n] = tensor('int64', n === 'input_ids' ? b.inputIds : n === 'attention_mask' ? b.attentionMask : b.tokenTypeIds, [
      b.batch,
      b.seq,
    ]);
  return f;
}

/**
 * Writes a batch's predictions into `preds` (example order): the regression output, or the
 * argmax class of each row of `logits` [batch, numLabels].
 */
export function scatterPredictions(
  preds: Float64Array,
  b: Batch,
  logits: Float32Array,
  numLabels: number,
  regression: boolean,
): void {
  scatterRows(preds, 1, b.indices, regression ? logits : argmaxRows(logits, b.batch, numLabels));
}
