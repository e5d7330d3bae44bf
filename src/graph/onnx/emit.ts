/**
 * IR -> ONNX ModelProto (opset 17, IR version 8) with onnx-proto. Only the nodes needed for the
 * requested outputs are emitted. Params are emitted as graph inputs (one each, or one flat vector
 * split inside the graph) or, when not listed, as frozen initializers like the constants.
 * IR conveniences are lowered here: MatMul with transA/transB/alpha -> com.microsoft.FusedMatMul
 * (or Transpose+MatMul+Mul without contrib ops), Gelu -> com.microsoft.Gelu (or Erf primitives),
 * ReduceSum axes -> an input, Dropout -> Dropout(x, ratio, training_mode) with its seed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { GraphError } from '../errors.js';
import { shapeSize, type Attr, type DType, type Node, type TensorData, type Value } from '../ir.js';
import { onnxDtypeCode } from '../ops/elementwise.js';

const { onnx } = onnxProto;

/** The model's initializers exceed protobuf's 2 GB limit and no external-data directory was given. */
export class OnnxSizeError extends Error {
  override name = 'OnnxSizeError';
}

export interface EmitOptions {
  /** Output name -> value. */
  outputs: ReadonlyArray<readonly [string, Value]>;
  /** Params fed as individual graph inputs. */
  paramInputs?: readonly Value[];
  /** Params fed as one flat vector (`input`, shape [N]) split inside the graph, in this order. */
  flatParams?: { input: Value; params: readonly Value[] };
  /** Dropout active (training programs) or identity (eval). Default false. */
  training?: boolean;
  /** Use ORT's com.microsoft contrib ops (FusedMatMul, Gelu). Default true; off for float64 checks. */
  contribOps?: boolean;
  /** Write model.onnx + weights.bin here (external data) instead of returning bytes in memory. */
  externalDataDir?: string;
  /** Size limit for an in-memory model (default 2 GB minus 64 MB of headroom); tests lower it. */
  maxInlineBytes?: number;
}

export interface EmittedModel {
  /** The serialized model, or undefined when written to `path`. */
  bytes?: Uint8Array;
  path?: string;
  /** Graph inputs, in order. */
  inputs: Value[];
  outputNames: string[];
  nodeCount: number;
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

function attrProto(name: string, a: Attr): onnxProto.onnx.IAttributeProto {
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

function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function valueInfo(name: string, dtype: DType, shape: readonly (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnxDtypeCode(dtype),
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function emitOnnx(opts: EmitOptions): EmittedModel {
  if (opts.outputs.length === 0) throw new GraphError('emitOnnx: no outputs requested');
  const g = opts.outputs[0]![1].graph;
  const contrib = opts.contribOps ?? true;
  const training = opts.training ?? false;
  const paramInputs = new Set(opts.paramInputs ?? []);
  const flat = new Set(opts.flatParams?.params ?? []);

  // Prune: nodes needed for the outputs.
  const needed = new Set<Node>();
  const usedValues = new Set<Value>();
  const stack: Value[] = opts.outputs.map(([, v]) => v);
  while (stack.length) {
    const v = stack.pop()!;
    if (usedValues.has(v)) continue;
    usedValues.add(v);
    if (v.producer && !needed.has(v.producer)) {
      needed.add(v.producer);
      for (const i of v.producer.inputs) if (i) stack.push(i);
    }
  }
  if (opts.flatParams && [...flat].some((p) => usedValues.has(p))) usedValues.add(opts.flatParams.input);

  const nodes: onnxProto.onnx.INodeProto[] = [];
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  const inputs: Value[] = [];
  let extra = 0;
  const fresh = (base: string) => `__e${extra++}_${base}`;
  const extraInit = new Map<string, string>();
  const constInit = (key: string, dtype: DType, dims: number[], data: TensorData): string => {
    let name = extraInit.get(key);
    if (!name) {
      name = fresh('c');
      initializers.push({ name, dataType: onnxDtypeCode(dtype), dims, rawData: bytesOf(data) });
      extraInit.set(key, name);
    }
    return name;
  };
  const ints = (xs: number[]) => constInit(`i64:${xs.join(',')}`, 'int64', [xs.length], BigInt64Array.from(xs, BigInt));
  const floatScalar = (dtype: DType, v: number) =>
    constInit(`${dtype}:${v}`, dtype, [], dtype === 'float64' ? Float64Array.of(v) : Float32Array.of(v));
  let usesContrib = false;

  for (const v of g.values) {
    if (!usedValues.has(v)) continue;
    if (v.kind === 'input') inputs.push(v);
    else if (v.kind === 'param' && paramInputs.has(v)) inputs.push(v);
    else if ((v.kind === 'param' && !flat.has(v)) || v.kind === 'constant') {
      const data = g.data.get(v)!;
      initializers.push({
        name: v.name,
        dataType: onnxDtypeCode(v.dtype),
        dims: v.shape as number[],
        rawData: bytesOf(data),
      });
    }
  }
  if (opts.flatParams && usedValues.has(opts.flatParams.input)) {
    const ps = opts.flatParams.params;
    const sizes = ps.map((p) => shapeSize(p.shape));
    const flatName = opts.flatParams.input.name;
    const parts = ps.length === 1 ? [flatName] : ps.map((p) => fresh(`${p.name}_flat`));
    if (ps.length > 1)
      nodes.push({
        opType: 'Split',
        input: [flatName, ints(sizes)],
        output: parts,
        attribute: [attrProto('axis', { kind: 'int', v: 0 })],
      });
    ps.forEach((p, k) => {
      nodes.push({ opType: 'Reshape', input: [parts[k]!, ints(p.shape as number[])], output: [p.name] });
    });
  }

  // A node-produced value fetched under one output name is emitted under that name (no Identity copy).
  const rename = new Map<Value, string>();
  const taken = new Set(g.values.map((v) => v.name));
  for (const [oname, v] of opts.outputs) {
    if (v.kind === 'node' && !rename.has(v) && (oname === v.name || !taken.has(oname))) rename.set(v, oname);
  }
  const name = (v: Value | null) => (v ? (rename.get(v) ?? v.name) : '');
  for (const n of g.nodes) {
    if (!needed.has(n)) continue;
    const ins = n.inputs.map(name);
    const outs = n.outputs.map(name);
    const attrs = Object.entries(n.attrs);
    const x = n.inputs[0]!;
    switch (n.op) {
      case 'MatMul': {
        const tA = n.attrs['transA']?.v === 1;
        const tB = n.attrs['transB']?.v === 1;
        const alpha = (n.attrs['alpha']?.v as number | undefined) ?? 1;
        if (!tA && !tB && alpha === 1) nodes.push({ opType: 'MatMul', input: ins, output: outs });
        else if (contrib) {
          usesContrib = true;
          nodes.push({
            opType: 'FusedMatMul',
            domain: 'com.microsoft',
            input: ins,
            output: outs,
            attribute: [
              attrProto('transA', { kind: 'int', v: tA ? 1 : 0 }),
              attrProto('transB', { kind: 'int', v: tB ? 1 : 0 }),
              attrProto('alpha', { kind: 'float', v: alpha }),
            ],
          });
        } else {
          const swap = (v: Value, t: boolean) => {
            if (!t) return name(v);
            const perm = v.shape.map((_, i) => i);
            [perm[v.rank - 1], perm[v.rank - 2]] = [perm[v.rank - 2]!, perm[v.rank - 1]!];
            const o = fresh('T');
            nodes.push({
              opType: 'Transpose',
              input: [name(v)],
              output: [o],
              attribute: [attrProto('perm', { kind: 'ints', v: perm })],
            });
            return o;
          };
          const a = swap(n.inputs[0]!, tA);
          const b = swap(n.inputs[1]!, tB);
          if (alpha === 1) nodes.push({ opType: 'MatMul', input: [a, b], output: outs });
          else {
            const m = fresh('mm');
            nodes.push({ opType: 'MatMul', input: [a, b], output: [m] });
            nodes.push({ opType: 'Mul', input: [m, floatScalar(x.dtype, alpha)], output: outs });
          }
        }
        break;
      }
      case 'ReduceSum': {
        const axes = n.attrs['axes']!.v as number[];
        nodes.push({
          opType: 'ReduceSum',
          input: [ins[0]!, ints(axes)],
          output: outs,
          attribute: [attrProto('keepdims', n.attrs['keepdims']!)],
        });
        break;
      }
      case 'Gelu': {
        if (contrib) {
          usesContrib = true;
          nodes.push({ opType: 'Gelu', domain: 'com.microsoft', input: ins, output: outs });
        } else {
          const sc = (v: number) => floatScalar(x.dtype, v);
          const [t1, t2, t3, t4] = [fresh('g'), fresh('g'), fresh('g'), fresh('g')];
          nodes.push({ opType: 'Mul', input: [ins[0]!, sc(Math.SQRT1_2)], output: [t1] });
          nodes.push({ opType: 'Erf', input: [t1], output: [t2] });
          nodes.push({ opType: 'Add', input: [t2, sc(1)], output: [t3] });
          nodes.push({ opType: 'Mul', input: [t3, sc(0.5)], output: [t4] });
          nodes.push({ opType: 'Mul', input: [ins[0]!, t4], output: outs });
        }
        break;
      }
      case 'Dropout': {
        const ratio = n.attrs['ratio']!.v as number;
        const r = floatScalar(x.dtype, ratio);
        const t = constInit(`bool:${training}`, 'bool', [], Uint8Array.of(training ? 1 : 0));
        nodes.push({
          opType: 'Dropout',
          input: [ins[0]!, r, t],
          output: outs,
          attribute: [attrProto('seed', n.attrs['seed']!)],
        });
        break;
      }
      default:
        nodes.push({ opType: n.op, input: ins, output: outs, attribute: attrs.map(([k, a]) => attrProto(k, a)) });
    }
  }

  const outputNames: string[] = [];
  const outputInfos: onnxProto.onnx.IValueInfoProto[] = [];
  const seen = new Set<string>();
  for (const [oname, v] of opts.outputs) {
    if (seen.has(oname)) throw new GraphError(`emitOnnx: duplicate output name '${oname}'`);
    seen.add(oname);
    // Outputs that are inputs/weights, or a value fetched twice, go through an Identity.
    if (rename.get(v) !== oname) nodes.push({ opType: 'Identity', input: [name(v)], output: [oname] });
    outputNames.push(oname);
    outputInfos.push(valueInfo(oname, v.dtype, v.shape));
  }

  const graph: onnxProto.onnx.IGraphProto = {
    name: 'autopeft',
    node: nodes,
    initializer: initializers,
    input: inputs.map((v) => valueInfo(v.name, v.dtype, v.shape)),
    output: outputInfos,
  };
  const opsetImport: onnxProto.onnx.IOperatorSetIdProto[] = [{ domain: '', version: 17 }];
  if (usesContrib) opsetImport.push({ domain: 'com.microsoft', version: 1 });
  const model: onnxProto.onnx.IModelProto = { irVersion: 8, opsetImport, producerName: 'autopeft', graph };

  const initBytes = initializers.reduce((s, t) => s + (t.rawData?.byteLength ?? 0), 0);
  const limit = opts.maxInlineBytes ?? 2 ** 31 - 64 * 2 ** 20;
  if (opts.externalDataDir) {
    mkdirSync(opts.externalDataDir, { recursive: true });
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const t of initializers) {
      const raw = t.rawData!;
      if (raw.byteLength < 1024) continue;
      // NOTE: 64-byte alignment lets ORT memory-map the tensors.
      const padTo = Math.ceil(offset / 64) * 64;
      if (padTo > offset) chunks.push(new Uint8Array(padTo - offset));
      offset = padTo;
      chunks.push(raw);
      t.externalData = [
        { key: 'location', value: 'weights.bin' },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.byteLength) },
      ];
      t.dataLocation = 1;
      t.rawData = null;
      offset += raw.byteLength;
    }
    writeFileSync(join(opts.externalDataDir, 'weights.bin'), Buffer.concat(chunks));
    const path = join(opts.externalDataDir, 'model.onnx');
    writeFileSync(path, onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish());
    return { path, inputs, outputNames, nodeCount: nodes.length };
  }
  if (initBytes > limit) {
    throw new OnnxSizeError(
      `the model's weights take ${(initBytes / 2 ** 30).toFixed(2)} GB, over protobuf's 2 GB limit: pass externalDataDir (a writable directory) to store them as external data`,
    );
  }
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  return { bytes, inputs, outputNames, nodeCount: nodes.length };
}
