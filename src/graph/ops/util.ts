import { GraphError } from '../errors.js';
import type { Dim, DType, Shape, Value } from '../ir.js';
import { isFloat } from '../ir.js';

/** Numpy broadcasting of two shapes; symbolic dims must match by name or meet a 1. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i - (n - a.length) >= 0 ? a[i - (n - a.length)]! : 1;
    const db = i - (n - b.length) >= 0 ? b[i - (n - b.length)]! : 1;
    if (da === db) out.push(da);
    else if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else
      throw new GraphError(
        `${op}: shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast (dim ${i}: ${da} vs ${db})`,
      );
  }
  return out;
}

export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new GraphError(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function sameDtype(op: string, ...vs: Value[]): DType {
  const d = vs[0]!.dtype;
  for (const v of vs) {
    if (v.dtype !== d)
      throw new GraphError(`${op}: dtype mismatch ${vs.map((x) => x.toString()).join(' vs ')}; cast one side`);
  }
  return d;
}

export function requireFloat(op: string, v: Value): void {
  if (!isFloat(v.dtype)) throw new GraphError(`${op}: ${v} must be float32 or float64`);
}

/** Multiplies dims, keeping symbols as a product string ('batch*64'). */
export function dimProduct(dims: readonly Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') n *= d;
    else syms.push(d);
  }
  if (syms.length === 0) return n;
  if (n === 0) return 0;
  return n === 1 ? syms.join('*') : `${syms.join('*')}*${n}`;
}

export function isStatic(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}
