/** Gradients of fused NN ops: Softmax, LogSoftmax, LayerNormalization, SoftmaxCrossEntropyLoss, Dropout. */
import { GraphError } from '../errors.js';
import { add, cast, div, equal, exp, mul, sub, where } from '../ops/elementwise.js';
import { reduceMean, reduceSum } from '../ops/reduce.js';
import { shapeOf, unsqueeze } from '../ops/shape.js';
import type { Value } from '../ir.js';
import type { GradRule } from './types.js';

export const Softmax: GradRule = (ctx) => {
  const y = ctx.node.outputs[0]!;
  const g = ctx.dy[0]!;
  const axis = ctx.node.attrs['axis']!.v as number;
  return [mul(y, sub(g, reduceSum(mul(g, y), [axis], true)))];
};

export const LogSoftmax: GradRule = (ctx) => {
  const y = ctx.node.outputs[0]!;
  const g = ctx.dy[0]!;
  const axis = ctx.node.attrs['axis']!.v as number;
  return [sub(g, mul(exp(y), reduceSum(g, [axis], true)))];
};

/**
 * LayerNormalization over the last dim, reusing the forward's Mean and InvStdDev outputs:
 * xhat = (x - mean) * r;  dx = r * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma.
 */
export const LayerNormalization: GradRule = (ctx) => {
  const [x, gamma] = ctx.node.inputs as [Value, Value, Value];
  const [, mean, invStd] = ctx.node.outputs as [Value, Value, Value];
  if (ctx.dy[1] || ctx.dy[2])
    throw new GraphError('LayerNormalization gradient: Mean/InvStdDev outputs are not differentiable');
  const g = ctx.dy[0]!;
  const lead = x.shape.slice(0, -1).map((_, i) => i);
  const xhat = mul(sub(x, mean), invStd);
  let dx: Value | undefined;
  if (ctx.needs[0]) {
    const dxhat = mul(g, gamma);
    const a = reduceMean(dxhat, [-1], true);
    const b = reduceMean(mul(dxhat, xhat), [-1], true);
    dx = mul(sub(dxhat, add(a, mul(xhat, b))), invStd);
  }
  return [dx, ctx.needs[1] ? reduceSum(mul(g, xhat), lead) : undefined, ctx.needs[2] ? reduceSum(g, lead) : undefined];
};

/** d loss / d logits = (softmax - onehot(labels)) * dloss (/ N for the mean). */
export const SoftmaxCrossEntropyLoss: GradRule = (ctx) => {
  const [logits, labels] = ctx.node.inputs as [Value, Value];
  const logProb = ctx.node.outputs[1]!;
  if (ctx.dy[1]) throw new GraphError('SoftmaxCrossEntropyLoss gradient: use the loss output, not log_prob');
  const g = logits.graph;
  const c = logits.shape[1] as number;
  const classes = g.constant(
    BigInt64Array.from({ length: c }, (_, i) => BigInt(i)),
    [c],
  );
  const onehot = cast(equal(unsqueeze(labels, [1]), classes), logits.dtype);
  let scale = ctx.dy[0]!;
  if (ctx.node.attrs['reduction']!.v === 'mean') {
    const n = logits.shape[0]!;
    scale = typeof n === 'number' ? mul(scale, 1 / n) : div(scale, cast(shapeOf(logits, 0, 1), logits.dtype));
  }
  return [mul(sub(exp(logProb), onehot), scale), undefined];
};

export const Dropout: GradRule = (ctx) => {
  const mask = ctx.node.outputs[1]!;
  const ratio = ctx.node.attrs['ratio']!.v as number;
  return [where(mask, mul(ctx.dy[0]!, 1 / (1 - ratio)), 0)];
};
