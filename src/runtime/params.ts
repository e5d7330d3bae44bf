/**
 * ParamStore: the trainable params of a graph as one flat float vector, the layout every program
 * (training and eval) uses: training steps update it (in place) and eval programs read it, without
 * copies. Each param is a graph input of its own, fed a view into the flat vector (the binding wraps
 * a typed array's memory without copying). A single flat input split inside the graph (ONNX Split)
 * copied every param each run: 3.3 s of a 26 s full fine-tuning step at BERT-base shape.
 */
import { GraphError } from '../graph/errors.js';
import { shapeSize, type Graph, type Value } from '../graph/ir.js';
import { type ort, tensor } from './session.js';

export interface NamedTensor {
  data: Float32Array | Float64Array;
  shape: number[];
}

export class ParamStore {
  readonly offsets: number[] = [];
  readonly size: number;
  readonly dtype: 'float32' | 'float64';
  /** Current values: updated in place by training steps, except a tensor handed out by TrainingProgram.getState(). */
  current: ort.Tensor;
  /** The per-param views of `current` last fed (rebuilt when `current` is replaced). */
  private views: { of: ort.Tensor; feeds: [string, ort.Tensor][] } | undefined;

  constructor(
    readonly graph: Graph,
    readonly params: readonly Value[],
  ) {
    if (params.length === 0) throw new GraphError('ParamStore: no trainable params (mark some with g.param())');
    const dtype = params[0]!.dtype;
    if (dtype !== 'float32' && dtype !== 'float64')
      throw new GraphError(`ParamStore: params must be float, got ${params[0]}`);
    this.dtype = dtype;
    let n = 0;
    for (const p of params) {
      if (p.kind !== 'param' || p.graph !== graph)
        throw new GraphError(`ParamStore: ${p} is not a param of this graph`);
      if (p.dtype !== dtype) throw new GraphError(`ParamStore: all params must share one dtype (${p} vs ${dtype})`);
      this.offsets.push(n);
      n += shapeSize(p.shape);
    }
    this.size = n;
    const flat = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
    params.forEach((p, k) => {
      flat.set(graph.data.get(p) as Float32Array, this.offsets[k]);
    });
    this.current = tensor(dtype, flat, [n]);
  }

  /** Adds the feed of every param (a view into `current`, no copy) that `inputs` names. */
  feedInto(all: Record<string, ort.Tensor>, inputs: ReadonlySet<string>): void {
    if (this.views?.of !== this.current) {
      const flat = this.current.data as Float32Array | Float64Array;
      this.views = {
        of: this.current,
        feeds: this.params.map((p, k) => {
          const off = this.offsets[k]!;
          return [p.name, tensor(this.dtype, flat.subarray(off, off + shapeSize(p.shape)), p.shape as number[])];
        }),
      };
    }
    for (const [name, t] of this.views.feeds) if (inputs.has(name)) all[name] = t;
  }

  /** Copies of the current values keyed by param name. */
  read(): Map<string, NamedTensor> {
    const flat = this.current.data as Float32Array | Float64Array;
    const out = new Map<string, NamedTensor>();
    this.params.forEach((p, k) => {
      const n = shapeSize(p.shape);
      out.set(p.name, { data: flat.slice(this.offsets[k], this.offsets[k]! + n), shape: p.shape as number[] });
    });
    return out;
  }

  /** Overwrites the named params (e.g. loaded from a checkpoint); unknown names are an error. */
  write(values: ReadonlyMap<string, { data: ArrayLike<number>; shape?: readonly number[] }>): void {
    const flat = (this.current.data as Float32Array | Float64Array).slice();
    for (const [name, v] of values) {
      const k = this.params.findIndex((p) => p.name === name);
      if (k < 0) throw new GraphError(`ParamStore.write: '${name}' is not a trainable param of this program`);
      const n = shapeSize(this.params[k]!.shape);
      if (v.data.length !== n)
        throw new GraphError(`ParamStore.write: '${name}' has ${v.data.length} values, expected ${n}`);
      flat.set(v.data, this.offsets[k]);
    }
    this.current = tensor(this.dtype, flat, [this.size]);
  }
}
