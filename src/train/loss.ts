/**
 * The training loss of a classifier graph, and the feeds of the inputs it declares.
 *
 * - classification: mean softmax cross-entropy of `logits` [batch, numLabels] against `labels`
 *   int64 [batch];
 * - regression: mean squared error of `logits` [batch, 1] against `labels` float32 [batch].
 *   NOTE: a sum of squares times `inv_batch` (1/batch, fed at run time): ReduceMean over the
 *   symbolic batch dimension has no gradient rule in the engine.
 */
import type { Value } from '../graph/ir.js';
import * as ops from '../graph/ops/index.js';
import type { Batch } from '../data/batching.js';
import { tensor, type ort } from '../runtime/session.js';

/** Appends the loss to `logits`' graph (declaring its `labels` and, for regression, `inv_batch` inputs). */
export function buildLoss(logits: Value, regression: boolean): Value {
  const g = logits.graph;
  if (regression) {
    const labels = g.input('labels', 'float32', ['batch']);
    const invB = g.input('inv_batch', 'float32', []);
    const d = ops.sub(ops.reshape(logits, [-1]), labels);
    return ops.mul(ops.reduceSum(ops.mul(d, d), [0], false), invB);
  }
  const labels = g.input('labels', 'int64', ['batch']);
  return ops.softmaxCrossEntropy(logits, labels, 'mean');
}

/** The feeds of the inputs `buildLoss` declared, for one batch. */
export function lossFeeds(b: Batch, regression: boolean): Record<string, ort.Tensor> {
  const f: Record<string, ort.Tensor> = {
    labels:
      b.labels instanceof Float32Array ? tensor('float32', b.labels, [b.batch]) : tensor('int64', b.labels, [b.batch]),
  };
  if (regression) f.inv_batch = tensor('float32', Float32Array.of(1 / b.batch), []);
  return f;
}
