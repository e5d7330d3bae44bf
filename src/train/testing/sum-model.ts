/**
 * A two-parameter classifier for the train room's unit tests: logits[r] = (sum of row r's token
 * ids) x w + b, so its outputs do not depend on padding and are easy to compute by hand.
 */
import { type Dim, Graph, type Value } from '../../graph/ir.js';
import * as ops from '../../graph/ops/index.js';

export function sumModel(seq: Dim, width: number, w: readonly number[], b: readonly number[]) {
  const g = new Graph();
  const ids = g.input('input_ids', 'int64', ['batch', seq]);
  const s = ops.reduceSum(ops.cast(ids, 'float32'), [1], true);
  const wv = g.param('w', Float32Array.from(w), [1, width]);
  const bv = g.param('b', Float32Array.from(b), [width]);
  const logits: Value = ops.add(ops.mul(s, wv), bv);
  return { graph: g, logits, inputNames: ['input_ids'] };
}

/** The model's logits by hand, for rows of token ids. */
export function sumLogits(rows: readonly (readonly number[])[], w: ArrayLike<number>, b: ArrayLike<number>): number[] {
  return rows.flatMap((row) => {
    const s = row.reduce((x, y) => x + y, 0);
    return Array.from(w, (wj, j) => s * wj + b[j]!);
  });
}
