/** Hand-made batches for the train room's unit tests (no tokenizer). */
import type { Batch } from '../../data/batching.js';

/**
 * A batch of `ids` rows (each padded with 0 to `seq`), rows standing for examples `indices`, with
 * class labels (int64) or regression targets (float32).
 */
export function makeBatch(
  ids: readonly (readonly number[])[],
  seq: number,
  indices: readonly number[],
  labels: readonly number[],
  regression = false,
): Batch {
  const batch = ids.length;
  const inputIds = new BigInt64Array(batch * seq);
  const attentionMask = new BigInt64Array(batch * seq);
  ids.forEach((row, r) => {
    row.forEach((t, j) => {
      inputIds[r * seq + j] = BigInt(t);
      attentionMask[r * seq + j] = 1n;
    });
  });
  return {
    batch,
    seq,
    inputIds,
    attentionMask,
    tokenTypeIds: new BigInt64Array(batch * seq),
    labels: regression ? Float32Array.from(labels) : BigInt64Array.from(labels, (y) => BigInt(y)),
    indices: Int32Array.from(indices),
  };
}
