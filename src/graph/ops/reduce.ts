/** ReduceSum / ReduceMean / ReduceMax over static axes (the emitter turns ReduceSum axes into an input, opset 17). */
import { attr, type Dim, type Value } from '../ir.js';
import { normAxis, requireFloat } from './util.js';

function reduce(op: string, x: Value, axes: readonly number[] | undefined, keepdims: boolean): Value {
  const ax = (axes ?? x.shape.map((_, i) => i)).map((a) => normAxis(op, a, x.rank));
  const sorted = [...new Set(ax)].sort((a, b) => a - b);
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!sorted.includes(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  return x.graph.node(op, [x], { axes: attr.ints(sorted), keepdims: attr.int(keepdims ? 1 : 0) }, [
    { dtype: x.dtype, shape },
  ])[0]!;
}

/** Sum over `axes` (all when omitted). */
export function reduceSum(x: Value, axes?: readonly number[], keepdims = false): Value {
  return reduce('ReduceSum', x, axes, keepdims);
}
export function reduceMean(x: Value, axes?: readonly number[], keepdims = false): Value {
  requireFloat('ReduceMean', x);
  return reduce('ReduceMean', x, axes, keepdims);
}
/** Max over axes. Its gradient goes to every element equal to the max (ties share it in full). */
export function reduceMax(x: Value, axes?: readonly number[], keepdims = false): Value {
  return reduce('ReduceMax', x, axes, keepdims);
}
