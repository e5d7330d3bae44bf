/** MatMul (batched, broadcast), with IR-level transA/transB/alpha lowered to com.microsoft.FusedMatMul or Transpose+MatMul(+Mul); Gemm; linear. */
import { GraphError } from '../errors.js';
import { attr, type Dim, type Value } from '../ir.js';
import { add } from './elementwise.js';
import { broadcastShapes, requireFloat, sameDtype } from './util.js';

export interface MatMulOptions {
  /** Use the transpose of the last two dims of a / b. */
  transA?: boolean;
  transB?: boolean;
  /** Scale of the product (FusedMatMul's alpha). */
  alpha?: number;
}

/**
 * a [..., m, k] @ b [..., k, n] -> [..., m, n]; batch dims broadcast. Ranks >= 2.
 */
export function matmul(a: Value, b: Value, opts: MatMulOptions = {}): Value {
  const dtype = sameDtype('MatMul', a, b);
  requireFloat('MatMul', a);
  if (a.rank < 2 || b.rank < 2)
    throw new GraphError(`MatMul: operands must have rank >= 2, got ${a} and ${b}; unsqueeze vectors first`);
  const [m, ka] = opts.transA
    ? [a.shape[a.rank - 1]!, a.shape[a.rank - 2]!]
    : [a.shape[a.rank - 2]!, a.shape[a.rank - 1]!];
  const [kb, n] = opts.transB
    ? [b.shape[b.rank - 1]!, b.shape[b.rank - 2]!]
    : [b.shape[b.rank - 2]!, b.shape[b.rank - 1]!];
  if (ka !== kb)
    throw new GraphError(
      `MatMul: inner dims differ (${ka} vs ${kb}) for ${a} @ ${b}${opts.transA ? ' transA' : ''}${opts.transB ? ' transB' : ''}`,
    );
  const batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const attrs: Record<string, ReturnType<typeof attr.int>> = {};
  if (opts.transA) attrs['transA'] = attr.int(1);
  if (opts.transB) attrs['transB'] = attr.int(1);
  if (opts.alpha !== undefined && opts.alpha !== 1) attrs['alpha'] = attr.float(opts.alpha);
  const shape: Dim[] = [...batch, m, n];
  return a.graph.node('MatMul', [a, b], attrs, [{ dtype, shape }])[0]!;
}

/** ONNX Gemm on 2-D operands: alpha * op(a) @ op(b) (+ c). No gradient rule (used by backward passes). */
export function gemm(a: Value, b: Value, opts: { transA?: boolean; transB?: boolean; alpha?: number } = {}): Value {
  const dtype = sameDtype('Gemm', a, b);
  if (a.rank !== 2 || b.rank !== 2) throw new GraphError(`Gemm: operands must be 2-D, got ${a} and ${b}`);
  const [m, ka] = opts.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [kb, n] = opts.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (ka !== kb) throw new GraphError(`Gemm: inner dims differ (${ka} vs ${kb})`);
  const attrs: Record<string, ReturnType<typeof attr.int>> = {};
  if (opts.transA) attrs['transA'] = attr.int(1);
  if (opts.transB) attrs['transB'] = attr.int(1);
  if (opts.alpha !== undefined && opts.alpha !== 1) attrs['alpha'] = attr.float(opts.alpha);
  return a.graph.node('Gemm', [a, b], attrs, [{ dtype, shape: [m, n] }])[0]!;
}

/**
 * x [..., in] @ W^T + b with W in the PyTorch/Hugging Face layout [out, in], b [out].
 * Frozen W (a constant) is pre-transposed once so ORT can pre-pack it; a trainable W uses transB.
 */
const transposedConstants = new WeakMap<Value, Value>();

export function linear(x: Value, w: Value, b?: Value): Value {
  let y: Value;
  if (w.rank !== 2) throw new GraphError(`linear: weight ${w} must be 2-D [out, in]`);
  if (w.kind === 'constant') {
    let wt = transposedConstants.get(w);
    if (!wt) {
      const data = w.graph.data.get(w)!;
      const [o, i] = w.shape as [number, number];
      const t = data instanceof Float64Array ? new Float64Array(o * i) : new Float32Array(o * i);
      for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) t[c * o + r] = data[r * i + c] as number;
      wt = w.graph.constant(t, [i, o], `${w.name}__T`);
      transposedConstants.set(w, wt);
    }
    y = matmul(x, wt);
  } else {
    y = matmul(x, w, { transB: true });
  }
  return b ? add(y, b) : y;
}
