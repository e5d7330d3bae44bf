/** Layout ops: Transpose, Reshape, Concat, Slice, Gather, Expand, Unsqueeze, Squeeze, Shape, Pad, ScatterND. */
import { GraphError } from '../errors.js';
import { attr, type Dim, type Shape, type Value } from '../ir.js';
import { broadcastShapes, dimProduct, isStatic, normAxis } from './util.js';

export function transpose(x: Value, perm: readonly number[]): Value {
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new GraphError(`Transpose: perm [${perm.join(',')}] is not a permutation of rank ${x.rank}`);
  }
  return x.graph.node('Transpose', [x], { perm: attr.ints([...perm]) }, [
    { dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) },
  ])[0]!;
}

/**
 * Reshape with ONNX target semantics: 0 copies the input dim at that index, one -1 is inferred.
 * A symbolic dim may appear in `target` only where the input has the same symbol at the same index.
 */
export function reshape(x: Value, target: readonly Dim[]): Value {
  const ints: number[] = [];
  const out: Dim[] = [];
  let infer = -1;
  target.forEach((d, i) => {
    if (typeof d === 'string') {
      if (x.shape[i] !== d)
        throw new GraphError(`Reshape: symbolic dim '${d}' at index ${i} must match the input's dim there (${x})`);
      ints.push(0);
      out.push(d);
    } else if (d === 0) {
      if (i >= x.rank) throw new GraphError(`Reshape: 0 at index ${i} but input ${x} has rank ${x.rank}`);
      ints.push(0);
      out.push(x.shape[i]!);
    } else if (d === -1) {
      if (infer >= 0) throw new GraphError('Reshape: at most one -1 in the target shape');
      infer = i;
      ints.push(-1);
      out.push(-1);
    } else {
      ints.push(d);
      out.push(d);
    }
  });
  if (infer >= 0) {
    // remaining = product(input) / product(known target dims), symbols cancelled by name.
    const inSyms = x.shape.filter((d): d is string => typeof d === 'string');
    const known = out.filter((_, i) => i !== infer);
    const outSyms = known.filter((d): d is string => typeof d === 'string');
    const rest = [...inSyms];
    for (const s of outSyms) {
      const k = rest.indexOf(s);
      if (k < 0) throw new GraphError(`Reshape: cannot infer -1 for ${x} -> [${target.join(',')}]`);
      rest.splice(k, 1);
    }
    const inN = x.shape.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
    const outN = known.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
    if (outN === 0 || inN % outN !== 0)
      throw new GraphError(`Reshape: ${x} cannot be reshaped to [${target.join(',')}]`);
    out[infer] = dimProduct([...rest, inN / outN]);
  } else if (isStatic(x.shape) && isStatic(out)) {
    const a = x.shape.reduce<number>((p, d) => p * (d as number), 1);
    const b = out.reduce<number>((p, d) => p * (d as number), 1);
    if (a !== b) throw new GraphError(`Reshape: ${x} has ${a} elements, target [${target.join(',')}] has ${b}`);
  }
  return x.graph.node('Reshape', [x, x.graph.ints(ints)], {}, [{ dtype: x.dtype, shape: out }])[0]!;
}

/** Reshape `x` to `shape` (same element count), writing symbols as 0 (same index) or -1. */
export function reshapeTo(x: Value, shape: Shape): Value {
  const target: Dim[] = [];
  let used = false;
  shape.forEach((d, i) => {
    if (typeof d === 'number') target.push(d);
    else if (x.shape[i] === d) target.push(d);
    else if (!used) {
      target.push(-1);
      used = true;
    } else throw new GraphError(`reshapeTo: cannot express [${shape.join(',')}] from ${x}`);
  });
  const y = reshape(x, target);
  // The inferred dim is a product string ('batch*64'); the caller knows its proper name.
  if (used) (y as { shape: Shape }).shape = [...shape];
  return y;
}

/** Reshape x to `like`'s shape, read at run time (any number of symbolic dims). */
export function reshapeLike(x: Value, like: Value): Value {
  return x.graph.node('Reshape', [x, isStatic(like.shape) ? x.graph.ints(like.shape) : shapeOf(like)], {}, [
    { dtype: x.dtype, shape: like.shape },
  ])[0]!;
}

export function concat(xs: readonly Value[], axis: number): Value {
  if (xs.length === 0) throw new GraphError('Concat: no inputs');
  const x0 = xs[0]!;
  const a = normAxis('Concat', axis, x0.rank);
  const parts: Dim[] = [];
  for (const x of xs) {
    if (x.rank !== x0.rank || x.dtype !== x0.dtype) throw new GraphError(`Concat: ${x} does not match ${x0}`);
    x.shape.forEach((d, i) => {
      if (i !== a && d !== x0.shape[i]) throw new GraphError(`Concat: ${x} and ${x0} differ at dim ${i}`);
    });
    parts.push(x.shape[a]!);
  }
  const shape = [...x0.shape];
  shape[a] = parts.every((d) => typeof d === 'number')
    ? (parts as number[]).reduce((p, d) => p + d, 0)
    : parts.join('+');
  return x0.graph.node('Concat', xs, { axis: attr.int(a) }, [{ dtype: x0.dtype, shape }])[0]!;
}

/**
 * x[starts:ends] along `axes` (step 1 unless given). On a symbolic axis, starts/ends must be
 * non-negative and the slice is taken to be static (end - start): the caller guarantees the dim is
 * at least `end` at run time (e.g. the [CLS] row 0:1 of a sequence).
 */
export function slice(
  x: Value,
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[],
  steps?: readonly number[],
): Value {
  const shape = [...x.shape];
  const ax = axes.map((a) => normAxis('Slice', a, x.rank));
  const st = steps ?? axes.map(() => 1);
  ax.forEach((a, k) => {
    const d = x.shape[a]!;
    if (typeof d !== 'number') {
      const s0 = starts[k]!;
      const e0 = ends[k]!;
      if (s0 < 0 || e0 < s0 || e0 >= 2 ** 31 || (st[k] ?? 1) !== 1) {
        throw new GraphError(`Slice: axis ${a} of ${x} is symbolic; use 0 <= start <= end (finite, step 1) or split()`);
      }
      shape[a] = e0 - s0;
      return;
    }
    const step = st[k]!;
    if (step <= 0) throw new GraphError('Slice: steps must be positive');
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const s = clamp(starts[k]!);
    const e = clamp(ends[k]!);
    shape[a] = Math.max(0, Math.ceil((e - s) / step));
  });
  const g = x.graph;
  const inputs = [x, g.ints(starts), g.ints(ends), g.ints(ax)];
  if (steps) inputs.push(g.ints(steps));
  return g.node('Slice', inputs, {}, [{ dtype: x.dtype, shape }])[0]!;
}

/** data[indices] along `axis` (embedding lookup with axis 0). */
export function gather(data: Value, indices: Value, axis = 0): Value {
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32')
    throw new GraphError(`Gather: indices ${indices} must be int64 or int32`);
  const a = normAxis('Gather', axis, data.rank);
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return data.graph.node('Gather', [data, indices], { axis: attr.int(a) }, [{ dtype: data.dtype, shape }])[0]!;
}

/** The shape of x (int64 [end-start]), for shapes only known at run time. */
export function shapeOf(x: Value, start = 0, end = x.rank): Value {
  const attrs: Record<string, ReturnType<typeof attr.int>> = {};
  if (start !== 0) attrs['start'] = attr.int(start);
  if (end !== x.rank) attrs['end'] = attr.int(end);
  return x.graph.node('Shape', [x], attrs, [{ dtype: 'int64', shape: [end - start] }])[0]!;
}

/** Number of elements of x as an int64 scalar (ONNX Size), for counts only known at run time. */
export function sizeOf(x: Value): Value {
  return x.graph.node('Size', [x], {}, [{ dtype: 'int64', shape: [] }])[0]!;
}

/** Broadcasts x to `like`'s shape (numpy rules). */
export function expandLike(x: Value, like: Value | Shape): Value {
  const target = Array.isArray(like) ? (like as Shape) : (like as Value).shape;
  const shapeInput = isStatic(target) ? x.graph.ints(target) : shapeOf(like as Value);
  if (!isStatic(target) && Array.isArray(like))
    throw new GraphError('Expand: a symbolic target needs a Value to take the shape from');
  return x.graph.node('Expand', [x, shapeInput], {}, [
    { dtype: x.dtype, shape: broadcastShapes('Expand', x.shape, target) },
  ])[0]!;
}

export function unsqueeze(x: Value, axes: readonly number[]): Value {
  const rank = x.rank + axes.length;
  const ax = axes.map((a) => normAxis('Unsqueeze', a, rank)).sort((a, b) => a - b);
  const shape: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(ax.includes(i) ? 1 : x.shape[j++]!);
  return x.graph.node('Unsqueeze', [x, x.graph.ints(ax)], {}, [{ dtype: x.dtype, shape }])[0]!;
}

export function squeeze(x: Value, axes: readonly number[]): Value {
  const ax = axes.map((a) => normAxis('Squeeze', a, x.rank));
  for (const a of ax) if (x.shape[a] !== 1) throw new GraphError(`Squeeze: dim ${a} of ${x} is not 1`);
  return x.graph.node('Squeeze', [x, x.graph.ints(ax)], {}, [
    { dtype: x.dtype, shape: x.shape.filter((_, i) => !ax.includes(i)) },
  ])[0]!;
}

/** Zero padding: pads = [begin_0..begin_{r-1}, end_0..end_{r-1}] (ONNX layout). */
export function pad(x: Value, pads: readonly number[]): Value {
  if (pads.length !== 2 * x.rank) throw new GraphError(`Pad: need ${2 * x.rank} pads for ${x}`);
  const shape = x.shape.map((d, i) => {
    if (pads[i] === 0 && pads[i + x.rank] === 0) return d;
    if (typeof d !== 'number') throw new GraphError(`Pad: cannot pad symbolic dim ${i} of ${x}`);
    return d + pads[i]! + pads[i + x.rank]!;
  });
  return x.graph.node('Pad', [x, x.graph.ints(pads)], {}, [{ dtype: x.dtype, shape }])[0]!;
}

/**
 * Renames the symbolic dims of `v` to `shape` (same rank, same static dims): for values the caller
 * knows to be equal in size at run time but whose inferred dim names differ ('2+seq' vs 'n').
 */
export function withShape(v: Value, shape: Shape): Value {
  if (
    shape.length !== v.rank ||
    shape.some((d, i) => typeof d === 'number' && typeof v.shape[i] === 'number' && d !== v.shape[i])
  ) {
    throw new GraphError(`withShape: ${v} cannot be [${shape.join(',')}]`);
  }
  (v as { shape: Shape }).shape = [...shape];
  return v;
}

/** Zero padding by a run-time int64 `pads` value ([2 * rank]), producing `outShape` (known to the caller). */
export function padDynamic(x: Value, pads: Value, outShape: Shape): Value {
  if (pads.dtype !== 'int64' || pads.rank !== 1)
    throw new GraphError(`Pad: pads ${pads} must be int64 [${2 * x.rank}]`);
  return x.graph.node('Pad', [x, pads], {}, [{ dtype: x.dtype, shape: outShape }])[0]!;
}

/**
 * Splits x along `axis` into parts of the given sizes; a size may be a symbolic dim name, whose
 * run-time value is taken from `sizeOf` (a value whose `axis` dim has that size).
 */
export function split(x: Value, axis: number, sizes: readonly Dim[], sizeOf?: Value): Value[] {
  const a = normAxis('Split', axis, x.rank);
  const g = x.graph;
  const symbolic = sizes.filter((d) => typeof d === 'string');
  let splitInput: Value;
  if (symbolic.length === 0) splitInput = g.ints(sizes as number[]);
  else {
    if (symbolic.length > 1 || !sizeOf || sizeOf.shape[a] !== symbolic[0]) {
      throw new GraphError(`Split: one symbolic size at most, with sizeOf holding it at axis ${a}`);
    }
    const parts = sizes.map((d) => (typeof d === 'number' ? g.ints([d]) : shapeOf(sizeOf, a, a + 1)));
    splitInput = concat(parts, 0);
  }
  return g.node(
    'Split',
    [x, splitInput],
    { axis: attr.int(a) },
    sizes.map((d) => {
      const shape = [...x.shape];
      shape[a] = d;
      return { dtype: x.dtype, shape };
    }),
  );
}

/** int64 [start, start + n) where n is `like`'s dim `axis` (static or symbolic); no gradient. */
export function rangeOf(like: Value, axis: number, start = 0): Value {
  const a = normAxis('Range', axis, like.rank);
  const g = like.graph;
  const d = like.shape[a]!;
  const limit = typeof d === 'number' ? g.scalar(start + d, 'int64') : squeeze(shapeOf(like, a, a + 1), [0]);
  const lim =
    typeof d === 'number' || start === 0
      ? limit
      : g.node('Add', [limit, g.scalar(start, 'int64')], {}, [{ dtype: 'int64', shape: [] }])[0]!;
  return g.node('Range', [g.scalar(start, 'int64'), lim, g.scalar(1, 'int64')], {}, [
    { dtype: 'int64', shape: [d] },
  ])[0]!;
}

/** data with `updates` added at `indices` (ScatterND, reduction add). No gradient rule. */
export function scatterNDAdd(data: Value, indices: Value, updates: Value): Value {
  return data.graph.node('ScatterND', [data, indices, updates], { reduction: attr.string('add') }, [
    { dtype: data.dtype, shape: data.shape },
  ])[0]!;
}
