/**
 * ONNX lowering rules: one per IR op, as the gradient rules are one per op (../gradients). Most
 * IR ops are ONNX ops already (`direct`); the IR's conveniences are lowered here:
 *
 * - MatMul with transA/transB/alpha -> com.microsoft.FusedMatMul, or Transpose + MatMul (+ Mul)
 *   without contrib ops;
 * - Gelu -> com.microsoft.Gelu, or 0.5 x (1 + erf(x / sqrt 2)) x x from primitives;
 * - ReduceSum's axes attribute -> an int64 input (opset 13+);
 * - Dropout(ratio, seed) -> Dropout(x, ratio, training_mode) with its seed.
 *
 * `emitOnnx` refuses an op without a rule, and a test checks that every op the builders create has one.
 */
import type onnxProto from 'onnx-proto';
import type { Attr, DType, Node, TensorData, Value } from '../ir.js';

type NodeProto = onnxProto.onnx.INodeProto;

const ATTR_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

export function attrProto(name: string, a: Attr): onnxProto.onnx.IAttributeProto {
  switch (a.kind) {
    case 'int':
      return { name, type: ATTR_TYPE.int, i: a.v };
    case 'float':
      return { name, type: ATTR_TYPE.float, f: a.v };
    case 'ints':
      return { name, type: ATTR_TYPE.ints, ints: a.v };
    case 'floats':
      return { name, type: ATTR_TYPE.floats, floats: a.v };
    case 'string':
      return { name, type: ATTR_TYPE.string, s: new TextEncoder().encode(a.v) };
  }
}

/** What a lowering rule sees of the model being emitted. */
export interface LoweringContext {
  readonly node: Node;
  /** ONNX names of the node's inputs ('' for an absent optional input) and outputs. */
  readonly ins: readonly string[];
  readonly outs: readonly string[];
  /** Whether com.microsoft contrib ops may be used. */
  readonly contrib: boolean;
  /** Dropout active (training programs) or identity. */
  readonly training: boolean;
  /** The ONNX name of a value. */
  name(v: Value): string;
  /** A new intermediate name. */
  fresh(base: string): string;
  /** An int64 [n] initializer (shared by equal contents). */
  ints(xs: number[]): string;
  /** A scalar initializer of `dtype` (shared by equal values). */
  floatScalar(dtype: DType, v: number): string;
  /** An initializer shared under `key`. */
  constInit(key: string, dtype: DType, dims: number[], data: TensorData): string;
  /** Appends a node; a node in the com.microsoft domain marks the model as using that opset. */
  push(n: NodeProto): void;
}

export type Lowering = (c: LoweringContext) => void;

/** The IR node as the ONNX node of the same name, attributes unchanged. */
const direct: Lowering = (c) =>
  c.push({
    opType: c.node.op,
    input: [...c.ins],
    output: [...c.outs],
    attribute: Object.entries(c.node.attrs).map(([k, a]) => attrProto(k, a)),
  });

const matMul: Lowering = (c) => {
  const { node: n, ins, outs } = c;
  const tA = n.attrs['transA']?.v === 1;
  const tB = n.attrs['transB']?.v === 1;
  const alpha = (n.attrs['alpha']?.v as number | undefined) ?? 1;
  if (!tA && !tB && alpha === 1) return c.push({ opType: 'MatMul', input: [...ins], output: [...outs] });
  if (c.contrib) {
    const attribute = [
      attrProto('transA', { kind: 'int', v: tA ? 1 : 0 }),
      attrProto('transB', { kind: 'int', v: tB ? 1 : 0 }),
      attrProto('alpha', { kind: 'float', v: alpha }),
    ];
    return c.push({ opType: 'FusedMatMul', domain: 'com.microsoft', input: [...ins], output: [...outs], attribute });
  }
  const swap = (v: Value, t: boolean) => {
    if (!t) return c.name(v);
    const perm = v.shape.map((_, i) => i);
    [perm[v.rank - 1], perm[v.rank - 2]] = [perm[v.rank - 2]!, perm[v.rank - 1]!];
    const o = c.fresh('T');
    c.push({
      opType: 'Transpose',
      input: [c.name(v)],
      output: [o],
      attribute: [attrProto('perm', { kind: 'ints', v: perm })],
    });
    return o;
  };
  const a = swap(n.inputs[0]!, tA);
  const b = swap(n.inputs[1]!, tB);
  if (alpha === 1) return c.push({ opType: 'MatMul', input: [a, b], output: [...outs] });
  const m = c.fresh('mm');
  c.push({ opType: 'MatMul', input: [a, b], output: [m] });
  c.push({ opType: 'Mul', input: [m, c.floatScalar(n.inputs[0]!.dtype, alpha)], output: [...outs] });
};

const reduceSum: Lowering = (c) =>
  c.push({
    opType: 'ReduceSum',
    input: [c.ins[0]!, c.ints(c.node.attrs['axes']!.v as number[])],
    output: [...c.outs],
    attribute: [attrProto('keepdims', c.node.attrs['keepdims']!)],
  });

const gelu: Lowering = (c) => {
  const { ins, outs } = c;
  if (c.contrib) return c.push({ opType: 'Gelu', domain: 'com.microsoft', input: [...ins], output: [...outs] });
  const sc = (v: number) => c.floatScalar(c.node.inputs[0]!.dtype, v);
  const [t1, t2, t3, t4] = [c.fresh('g'), c.fresh('g'), c.fresh('g'), c.fresh('g')];
  c.push({ opType: 'Mul', input: [ins[0]!, sc(Math.SQRT1_2)], output: [t1] });
  c.push({ opType: 'Erf', input: [t1], output: [t2] });
  c.push({ opType: 'Add', input: [t2, sc(1)], output: [t3] });
  c.push({ opType: 'Mul', input: [t3, sc(0.5)], output: [t4] });
  c.push({ opType: 'Mul', input: [ins[0]!, t4], output: [...outs] });
};

const dropout: Lowering = (c) => {
  const r = c.floatScalar(c.node.inputs[0]!.dtype, c.node.attrs['ratio']!.v as number);
  const t = c.constInit(`bool:${c.training}`, 'bool', [], Uint8Array.of(c.training ? 1 : 0));
  c.push({
    opType: 'Dropout',
    input: [c.ins[0]!, r, t],
    output: [...c.outs],
    attribute: [attrProto('seed', c.node.attrs['seed']!)],
  });
};

const DIRECT = [
  // elementwise
  ...['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Neg', 'Exp', 'Log', 'Sqrt', 'Tanh', 'Erf', 'Relu', 'Sigmoid', 'Identity'],
  ...['Greater', 'Less', 'Equal', 'Where', 'Cast'],
  // matmul, nn, reductions (opset 17 keeps ReduceMean/ReduceMax axes as attributes)
  ...['Gemm', 'Softmax', 'LogSoftmax', 'SoftmaxCrossEntropyLoss', 'LayerNormalization', 'ReduceMean', 'ReduceMax'],
  // shape
  ...['Transpose', 'Reshape', 'Concat', 'Slice', 'Gather', 'Shape', 'Size', 'Expand', 'Unsqueeze', 'Squeeze'],
  ...['Split', 'Pad', 'Range', 'ScatterND'],
];

/** The lowering rule of every IR op. */
export const lowerings: ReadonlyMap<string, Lowering> = new Map<string, Lowering>([
  ...DIRECT.map((op): [string, Lowering] => [op, direct]),
  ['MatMul', matMul],
  ['ReduceSum', reduceSum],
  ['Gelu', gelu],
  ['Dropout', dropout],
]);
