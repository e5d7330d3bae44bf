/**
 * Graph IR: typed values with static shapes (symbolic dims allowed, e.g. 'batch'), nodes, graph
 * inputs, trainable params and frozen constants, outputs.
 *
 * Trainability is structural: `g.param()` makes a value the optimiser may update, `g.constant()` a
 * frozen weight (emitted as an ONNX initializer). Nodes use ONNX op names and attribute semantics
 * (opset 17) so emission is a direct translation; a few IR-only conveniences (MatMul transA/transB/
 * alpha, Gelu) are lowered by the emitter.
 */
import { GraphError } from './errors.js';

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';
/** A dimension: a number, or a symbol (e.g. 'batch') resolved when the program runs. */
export type Dim = number | string;
export type Shape = readonly Dim[];
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export type Attr =
  | { kind: 'int'; v: number }
  | { kind: 'float'; v: number }
  | { kind: 'ints'; v: number[] }
  | { kind: 'floats'; v: number[] }
  | { kind: 'string'; v: string };

export const attr = {
  int: (v: number): Attr => ({ kind: 'int', v }),
  float: (v: number): Attr => ({ kind: 'float', v }),
  ints: (v: number[]): Attr => ({ kind: 'ints', v }),
  floats: (v: number[]): Attr => ({ kind: 'floats', v }),
  string: (v: string): Attr => ({ kind: 'string', v }),
};

export type ValueKind = 'input' | 'param' | 'constant' | 'node';

export class Value {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly kind: ValueKind,
    /** Producing node for kind 'node'. */
    readonly producer: Node | undefined,
  ) {}
  get rank(): number {
    return this.shape.length;
  }
  /** Number of elements when the shape is fully static, else undefined. */
  get size(): number | undefined {
    let n = 1;
    for (const d of this.shape) {
      if (typeof d !== 'number') return undefined;
      n *= d;
    }
    return n;
  }
  toString(): string {
    return `${this.name}:${this.dtype}[${this.shape.join(',')}]`;
  }
}

export interface Node {
  readonly id: number;
  readonly op: string;
  readonly inputs: readonly (Value | null)[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, Attr>>;
}

export interface OutSpec {
  dtype: DType;
  shape: Shape;
}

export function dtypeArray(dtype: DType, n: number): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'bool':
      return new Uint8Array(n);
  }
}

function dataDtype(data: TensorData): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return 'bool';
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') throw new GraphError(`shape [${shape.join(',')}] is not static`);
    n *= d;
  }
  return n;
}

export class Graph {
  readonly values: Value[] = [];
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly params: Value[] = [];
  readonly constants: Value[] = [];
  /** Data of params and constants. */
  readonly data = new Map<Value, TensorData>();
  readonly outputs = new Map<string, Value>();
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<string, Value>();
  private nodeCount = 0;

  private uniqueName(base: string): string {
    let name = base;
    let i = 1;
    while (this.names.has(name)) name = `${base}_${i++}`;
    this.names.add(name);
    return name;
  }

  private newValue(name: string, dtype: DType, shape: Shape, kind: ValueKind, producer?: Node, exact = false): Value {
    if (exact && this.names.has(name))
      throw new GraphError(`duplicate value name '${name}': names of inputs, params and constants must be unique`);
    if (exact) this.names.add(name);
    const v = new Value(
      this,
      this.values.length,
      exact ? name : this.uniqueName(name),
      dtype,
      [...shape],
      kind,
      producer,
    );
    this.values.push(v);
    return v;
  }

  /** A graph input fed at run time (a batch tensor). */
  input(name: string, dtype: DType, shape: Shape): Value {
    const v = this.newValue(name, dtype, shape, 'input', undefined, true);
    this.inputs.push(v);
    return v;
  }

  /** A graph input named `base` or `base_1`, `base_2`... when taken (programs add their own inputs). */
  freshInput(base: string, dtype: DType, shape: Shape): Value {
    const v = this.newValue(base, dtype, shape, 'input');
    this.inputs.push(v);
    return v;
  }

  /** A trainable parameter with its initial value; shape must be static. */
  param(name: string, data: TensorData, shape: Shape): Value {
    checkData(name, data, shape);
    const v = this.newValue(name, dataDtype(data), shape, 'param', undefined, true);
    this.params.push(v);
    this.data.set(v, data);
    return v;
  }

  /** A frozen weight or constant (an ONNX initializer). Unnamed constants get a generated name. */
  constant(data: TensorData, shape: Shape, name?: string): Value {
    checkData(name ?? 'constant', data, shape);
    const v = this.newValue(name ?? 'const', dataDtype(data), shape, 'constant', undefined, name !== undefined);
    this.constants.push(v);
    this.data.set(v, data);
    return v;
  }

  /** A rank-0 constant, shared per (value, dtype). */
  scalar(x: number, dtype: DType = 'float32'): Value {
    const key = `${dtype}:${Object.is(x, -0) ? '-0' : x}`;
    let v = this.scalarCache.get(key);
    if (!v) {
      const d = dtypeArray(dtype, 1);
      if (d instanceof BigInt64Array) d[0] = BigInt(x);
      else d[0] = x;
      v = this.constant(d, []);
      this.scalarCache.set(key, v);
    }
    return v;
  }

  /** A 1-D int64 constant (shapes, axes, pads), shared per content. */
  ints(xs: readonly number[]): Value {
    const key = `ints:${xs.join(',')}`;
    let v = this.scalarCache.get(key);
    if (!v) {
      v = this.constant(
        BigInt64Array.from(xs, (x) => BigInt(x)),
        [xs.length],
      );
      this.scalarCache.set(key, v);
    }
    return v;
  }

  /** Low-level node constructor used by the op builders (which do shape inference). */
  node(op: string, inputs: readonly (Value | null)[], attrs: Record<string, Attr>, outs: readonly OutSpec[]): Value[] {
    for (const v of inputs) {
      if (v && v.graph !== this) throw new GraphError(`${op}: input ${v.name} belongs to another graph`);
    }
    const outputs: Value[] = [];
    const node: Node = { id: this.nodeCount++, op, inputs: [...inputs], outputs, attrs };
    for (const o of outs) outputs.push(this.newValue(`${op.toLowerCase()}_${node.id}`, o.dtype, o.shape, 'node', node));
    this.nodes.push(node);
    return outputs;
  }

  /** Marks `v` as a named graph output (for programs that fetch it). */
  output(name: string, v: Value): Value {
    this.outputs.set(name, v);
    return v;
  }

  /** Total number of elements in the trainable params. */
  paramCount(params: readonly Value[] = this.params): number {
    return params.reduce((s, p) => s + shapeSize(p.shape), 0);
  }
}

function checkData(name: string, data: TensorData, shape: Shape): void {
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new GraphError(`${name}: shape [${shape.join(',')}] of a weight must be static non-negative integers`);
    }
  }
  const n = shapeSize(shape);
  if (data.length !== n)
    throw new GraphError(`${name}: data has ${data.length} elements but shape [${shape.join(',')}] needs ${n}`);
}
