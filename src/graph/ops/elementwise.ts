/** Elementwise ops with numpy broadcasting: Add/Sub/Mul/Div/Pow, unary math, Where, Cast, comparisons. */
import { GraphError } from '../errors.js';
import { attr, type DType, type Value } from '../ir.js';
import { broadcastShapes, requireFloat, sameDtype } from './util.js';

type Operand = Value | number;

function lift(op: string, a: Operand, b: Operand): [Value, Value] {
  if (typeof a === 'number' && typeof b === 'number')
    throw new GraphError(`${op}: at least one operand must be a Value`);
  const va = typeof a === 'number' ? (b as Value).graph.scalar(a, (b as Value).dtype) : a;
  const vb = typeof b === 'number' ? va.graph.scalar(b, va.dtype) : b;
  return [va, vb];
}

function binary(op: string, a: Operand, b: Operand): Value {
  const [va, vb] = lift(op, a, b);
  const dtype = sameDtype(op, va, vb);
  return va.graph.node(op, [va, vb], {}, [{ dtype, shape: broadcastShapes(op, va.shape, vb.shape) }])[0]!;
}

/** a + b (numbers become scalar constants of the other operand's dtype). */
export const add = (a: Operand, b: Operand): Value => binary('Add', a, b);
export const sub = (a: Operand, b: Operand): Value => binary('Sub', a, b);
export const mul = (a: Operand, b: Operand): Value => binary('Mul', a, b);
export const div = (a: Operand, b: Operand): Value => binary('Div', a, b);
/** a ** b, both float. */
export function pow(a: Operand, b: Operand): Value {
  const v = binary('Pow', a, b);
  requireFloat('Pow', v);
  return v;
}

function unary(op: string, x: Value, float = true): Value {
  if (float) requireFloat(op, x);
  return x.graph.node(op, [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0]!;
}
export const neg = (x: Value): Value => unary('Neg', x, false);
export const exp = (x: Value): Value => unary('Exp', x);
export const log = (x: Value): Value => unary('Log', x);
export const sqrt = (x: Value): Value => unary('Sqrt', x);
export const tanh = (x: Value): Value => unary('Tanh', x);
/** Erf. NOTE: ORT's CPU Erf kernel is float32-only. */
export const erf = (x: Value): Value => unary('Erf', x);
export const relu = (x: Value): Value => unary('Relu', x);
export const sigmoid = (x: Value): Value => unary('Sigmoid', x);
export const identity = (x: Value): Value => unary('Identity', x, false);

function compare(op: string, a: Operand, b: Operand): Value {
  const [va, vb] = lift(op, a, b);
  sameDtype(op, va, vb);
  return va.graph.node(op, [va, vb], {}, [{ dtype: 'bool', shape: broadcastShapes(op, va.shape, vb.shape) }])[0]!;
}
export const greater = (a: Operand, b: Operand): Value => compare('Greater', a, b);
export const less = (a: Operand, b: Operand): Value => compare('Less', a, b);
export const equal = (a: Operand, b: Operand): Value => compare('Equal', a, b);

/** cond ? a : b, broadcasting all three. */
export function where(cond: Value, a: Operand, b: Operand): Value {
  if (cond.dtype !== 'bool') throw new GraphError(`Where: condition ${cond} must be bool`);
  const [va, vb] = lift('Where', a, b);
  const dtype = sameDtype('Where', va, vb);
  const shape = broadcastShapes('Where', broadcastShapes('Where', cond.shape, va.shape), vb.shape);
  return cond.graph.node('Where', [cond, va, vb], {}, [{ dtype, shape }])[0]!;
}

const ONNX_DTYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };
export function onnxDtypeCode(d: DType): number {
  return ONNX_DTYPE[d];
}

export function cast(x: Value, to: DType): Value {
  return x.graph.node('Cast', [x], { to: attr.int(ONNX_DTYPE[to]) }, [{ dtype: to, shape: x.shape }])[0]!;
}
