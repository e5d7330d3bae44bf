/** Gradients of layout ops: Transpose, Reshape, Concat, Slice, Gather, Expand, Unsqueeze, Squeeze, Pad. */
import { GraphError } from '../errors.js';
import { cast } from '../ops/elementwise.js';
import {
  concat,
  expandLike,
  pad,
  padDynamic,
  reshapeLike,
  reshapeTo,
  scatterNDAdd,
  shapeOf,
  slice,
  split,
  squeeze,
  transpose,
  unsqueeze,
  withShape,
} from '../ops/shape.js';
import type { Value } from '../ir.js';
import { constInts, type GradRule } from './types.js';

export const Transpose: GradRule = (ctx) => {
  const perm = ctx.node.attrs['perm']!.v as number[];
  const inv = perm.map((_, i) => perm.indexOf(i));
  return [transpose(ctx.dy[0]!, inv)];
};
export const Reshape: GradRule = (ctx) => {
  const x = ctx.node.inputs[0]!;
  // One symbolic dim at most can be written as -1; more are read from x's shape at run time.
  const syms = x.shape.filter((d, i) => typeof d === 'string' && ctx.dy[0]!.shape[i] !== d).length;
  return [syms <= 1 ? reshapeTo(ctx.dy[0]!, x.shape) : reshapeLike(ctx.dy[0]!, x), undefined];
};
export const Expand: GradRule = (ctx) => [ctx.dy[0], undefined];
export const Unsqueeze: GradRule = (ctx) => [
  squeeze(ctx.dy[0]!, constInts(ctx.node.inputs[1], 'Unsqueeze axes')),
  undefined,
];
export const Squeeze: GradRule = (ctx) => [
  unsqueeze(ctx.dy[0]!, constInts(ctx.node.inputs[1], 'Squeeze axes')),
  undefined,
];

/** Concat: one Split of dY into the inputs' sizes (a symbolic size is read from its input at run time). */
export const Concat: GradRule = (ctx) => {
  const axis = ctx.node.attrs['axis']!.v as number;
  const xs = ctx.node.inputs as Value[];
  const sym = xs.filter((x) => typeof x.shape[axis] !== 'number');
  if (sym.length > 1) throw new GraphError(`Concat gradient: more than one input has a symbolic size on axis ${axis}`);
  const parts = split(
    ctx.dy[0]!,
    axis,
    xs.map((x) => x.shape[axis]!),
    sym[0],
  );
  return parts.map((p, i) => (ctx.needs[i] ? p : undefined));
};

export const Slice: GradRule = (ctx) => {
  const x = ctx.node.inputs[0]!;
  const starts = constInts(ctx.node.inputs[1], 'Slice starts');
  const axes = constInts(ctx.node.inputs[3], 'Slice axes');
  const steps = ctx.node.inputs[4] ? constInts(ctx.node.inputs[4], 'Slice steps') : axes.map(() => 1);
  if (steps.some((s) => s !== 1)) throw new GraphError('Slice gradient: only step 1 is supported');
  const y = ctx.node.outputs[0]!;
  const pads = new Array<number>(2 * x.rank).fill(0);
  const dynamicEnd: number[] = [];
  axes.forEach((a, k) => {
    const d = x.shape[a]!;
    if (typeof d !== 'number') {
      // Symbolic axis (0 <= start <= end, see ops.slice): the end padding is known at run time only.
      pads[a] = starts[k]!;
      dynamicEnd.push(a);
      return;
    }
    const s = Math.min(Math.max(starts[k]! < 0 ? starts[k]! + d : starts[k]!, 0), d);
    pads[a] = s;
    pads[a + x.rank] = d - s - (y.shape[a] as number);
  });
  if (dynamicEnd.length === 0) return [pad(ctx.dy[0]!, pads), undefined, undefined, undefined, undefined];
  const g = x.graph;
  // pads = static part + (shape(x) - start - len) on the symbolic axes.
  const parts = pads.map((p, i) => {
    const a = i - x.rank;
    if (!dynamicEnd.includes(a)) return g.ints([p]);
    const rest = (pads[a] ?? 0) + (y.shape[a] as number);
    return g.node('Sub', [shapeOf(x, a, a + 1), g.ints([rest])], {}, [{ dtype: 'int64', shape: [1] }])[0]!;
  });
  return [padDynamic(ctx.dy[0]!, concat(parts, 0), x.shape), undefined, undefined, undefined, undefined];
};

/** Split: the input gradient is the concat of the parts' gradients (zeros where a part has none). */
export const Split: GradRule = (ctx) => {
  const axis = ctx.node.attrs['axis']!.v as number;
  const parts = ctx.node.outputs.map((o, i) => ctx.dy[i] ?? expandLike(o.graph.scalar(0, o.dtype), o));
  // Same size as the input at run time; keep the input's dim name (e.g. '2+seq').
  return [withShape(concat(parts, axis), ctx.node.inputs[0]!.shape), undefined];
};

export const Pad: GradRule = (ctx) => {
  const x = ctx.node.inputs[0]!;
  const pads = constInts(ctx.node.inputs[1], 'Pad pads');
  const axes: number[] = [];
  const st: number[] = [];
  const en: number[] = [];
  x.shape.forEach((d, i) => {
    if (pads[i] !== 0 || pads[i + x.rank] !== 0) {
      axes.push(i);
      st.push(pads[i]!);
      en.push(pads[i]! + (d as number));
    }
  });
  return [axes.length ? slice(ctx.dy[0]!, st, en, axes) : ctx.dy[0], undefined];
};

/** Embedding gradient: scatter-add rows of dY into zeros shaped like the table (axis 0 only). */
export const Gather: GradRule = (ctx) => {
  const [data, indices] = ctx.node.inputs as [Value, Value];
  if ((ctx.node.attrs['axis']?.v ?? 0) !== 0) throw new GraphError('Gather gradient: only axis 0 is supported');
  const zeros = expandLike(data.graph.scalar(0, data.dtype), data.shape);
  const idx = unsqueeze(indices.dtype === 'int64' ? indices : cast(indices, 'int64'), [-1]);
  return [scatterNDAdd(zeros, idx, ctx.dy[0]!), undefined];
};
