/** Gradient rules of elementwise ops. Outputs may be broadcast; autodiff reduces them. */
import { add, cast, div, erf, exp, greater, log, mul, neg, pow, sub, where } from '../ops/elementwise.js';
import type { Value } from '../ir.js';
import type { GradRule } from './types.js';

const inp = (ctx: Parameters<GradRule>[0], i: number): Value => ctx.node.inputs[i]!;
const out = (ctx: Parameters<GradRule>[0]): Value => ctx.node.outputs[0]!;

export const Add: GradRule = ({ dy }) => [dy[0], dy[0]];
export const Sub: GradRule = ({ dy, needs }) => [dy[0], needs[1] ? neg(dy[0]!) : undefined];
export const Mul: GradRule = (ctx) => {
  const g = ctx.dy[0]!;
  return [ctx.needs[0] ? mul(g, inp(ctx, 1)) : undefined, ctx.needs[1] ? mul(g, inp(ctx, 0)) : undefined];
};
export const Div: GradRule = (ctx) => {
  const g = ctx.dy[0]!;
  const b = inp(ctx, 1);
  // d(a/b)/db = -y/b
  return [ctx.needs[0] ? div(g, b) : undefined, ctx.needs[1] ? neg(div(mul(g, out(ctx)), b)) : undefined];
};
export const Pow: GradRule = (ctx) => {
  const g = ctx.dy[0]!;
  const a = inp(ctx, 0);
  const b = inp(ctx, 1);
  let da: Value | undefined;
  if (ctx.needs[0]) {
    const bd = b.kind === 'constant' && b.size === 1 ? Number(b.graph.data.get(b)![0]) : undefined;
    da = bd !== undefined ? mul(g, mul(pow(a, bd - 1), bd)) : mul(g, mul(b, pow(a, sub(b, 1))));
  }
  const db = ctx.needs[1] ? mul(g, mul(out(ctx), log(a))) : undefined;
  return [da, db];
};
export const Neg: GradRule = ({ dy }) => [neg(dy[0]!)];
export const Identity: GradRule = ({ dy }) => [dy[0]];
export const Exp: GradRule = (ctx) => [mul(ctx.dy[0]!, out(ctx))];
export const Log: GradRule = (ctx) => [div(ctx.dy[0]!, inp(ctx, 0))];
export const Sqrt: GradRule = (ctx) => [div(mul(ctx.dy[0]!, 0.5), out(ctx))];
export const Tanh: GradRule = (ctx) => {
  const y = out(ctx);
  return [mul(ctx.dy[0]!, sub(1, mul(y, y)))];
};
export const Sigmoid: GradRule = (ctx) => {
  const y = out(ctx);
  return [mul(ctx.dy[0]!, mul(y, sub(1, y)))];
};
/** d erf(x) = 2/sqrt(pi) exp(-x^2). */
export const Erf: GradRule = (ctx) => {
  const x = inp(ctx, 0);
  return [mul(ctx.dy[0]!, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI)))];
};
/** NOTE: the subgradient at 0 is 0 (as PyTorch). */
export const Relu: GradRule = (ctx) => [where(greater(inp(ctx, 0), 0), ctx.dy[0]!, 0)];
export const Where: GradRule = (ctx) => {
  const c = inp(ctx, 0);
  const g = ctx.dy[0]!;
  return [undefined, ctx.needs[1] ? where(c, g, 0) : undefined, ctx.needs[2] ? where(c, 0, g) : undefined];
};
export const Cast: GradRule = (ctx) => [cast(ctx.dy[0]!, inp(ctx, 0).dtype)];
/** Exact GELU: d/dx x Phi(x) = Phi(x) + x phi(x). */
export const Gelu: GradRule = (ctx) => {
  const x = inp(ctx, 0);
  const cdf = add(mul(erf(mul(x, Math.SQRT1_2)), 0.5), 0.5);
  const pdf = mul(exp(mul(mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return [mul(ctx.dy[0]!, add(cdf, mul(x, pdf)))];
};
