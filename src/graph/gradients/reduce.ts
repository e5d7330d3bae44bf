/** Gradients of ReduceSum / ReduceMean / ReduceMax. */
import { cast, div, equal, mul } from '../ops/elementwise.js';
import { expandLike, sizeOf, unsqueeze } from '../ops/shape.js';
import type { Value } from '../ir.js';
import type { GradContext, GradRule } from './types.js';

function keepShapeGrad(ctx: GradContext): { g: Value; axes: number[] } {
  const axes = ctx.node.attrs['axes']!.v as number[];
  const keep = ctx.node.attrs['keepdims']!.v === 1;
  const g = ctx.dy[0]!;
  return { g: keep ? g : unsqueeze(g, axes), axes };
}

export const ReduceSum: GradRule = (ctx) => [expandLike(keepShapeGrad(ctx).g, ctx.node.inputs[0]!)];
export const ReduceMean: GradRule = (ctx) => {
  const x = ctx.node.inputs[0]!;
  const { g, axes } = keepShapeGrad(ctx);
  let n = 1;
  let symbolic = false;
  for (const a of axes) {
    const d = x.shape[a]!;
    if (typeof d !== 'number') symbolic = true;
    else n *= d;
  }
  if (!symbolic) return [expandLike(mul(g, 1 / n), x)];
  // Count known at run time only: size(x) / size(y).
  const count = div(cast(sizeOf(x), x.dtype), cast(sizeOf(ctx.node.outputs[0]!), x.dtype));
  return [expandLike(div(g, count), x)];
};
/** NOTE: every element equal to the max gets the full gradient (ties are rare in float data). */
export const ReduceMax: GradRule = (ctx) => {
  const x = ctx.node.inputs[0]!;
  const axes = ctx.node.attrs['axes']!.v as number[];
  const keep = ctx.node.attrs['keepdims']!.v === 1;
  const y = keep ? ctx.node.outputs[0]! : unsqueeze(ctx.node.outputs[0]!, axes);
  const { g } = keepShapeGrad(ctx);
  return [mul(cast(equal(x, y), x.dtype), g)];
};
