/** Gradient of MatMul with transA/transB/alpha. Weight-shaped operands (2-D B under a batched A) get one Gemm over the flattened batch instead of a batched product + reduction. */
import { gemm, matmul } from '../ops/matmul.js';
import { reshape } from '../ops/shape.js';
import type { Value } from '../ir.js';
import type { GradRule } from './types.js';

export const MatMul: GradRule = (ctx) => {
  const [a, b] = ctx.node.inputs as [Value, Value];
  const g = ctx.dy[0]!;
  const tA = ctx.node.attrs['transA']?.v === 1;
  const tB = ctx.node.attrs['transB']?.v === 1;
  const alpha = (ctx.node.attrs['alpha']?.v as number | undefined) ?? 1;
  let da: Value | undefined;
  let db: Value | undefined;
  if (ctx.needs[0]) {
    // Y = op(A) op(B): d op(A) = G op(B)^T.
    if (!tA) da = matmul(g, b, { transB: !tB, alpha });
    else da = matmul(b, g, { transA: tB, transB: true, alpha });
  }
  if (ctx.needs[1]) {
    if (b.rank === 2 && a.rank > 2 && !tA) {
      const k = a.shape[a.rank - 1]!;
      const n = g.shape[g.rank - 1]!;
      const a2 = reshape(a, [-1, k]);
      const g2 = reshape(g, [-1, n]);
      // dB = A^T G  ([k, n]) or, for Y = A B^T, dB = G^T A ([n, k]).
      db = tB ? gemm(g2, a2, { transA: true, alpha }) : gemm(a2, g2, { transA: true, alpha });
    } else if (!tB) db = matmul(a, g, { transA: !tA, alpha });
    else db = matmul(g, a, { transA: true, transB: tA, alpha });
  }
  return [da, db];
};
