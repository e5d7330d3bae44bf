/**
 * IR -> ONNX ModelProto (opset 17, IR version 8) with onnx-proto. Only the nodes needed for the
 * requested outputs are emitted. Params are emitted as graph inputs (one each, or one flat vector
 * split inside the graph) or, when not listed, as frozen initializers like the constants.
 * Each node is lowered by its op's rule in ./lowerings.ts (one per op, like the gradient rules).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { GraphError } from '../errors.js';
import { shapeSize, type DType, type Node, type TensorData, type Value } from '../ir.js';
import { onnxDtypeCode } from '../ops/elementwise.js';
import { attrProto, lowerings } from './lowerings.js';

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
  flatParams?: { input: Value; params: readonly Value[] } | undefined;
  /** Dropout active (training programs) or identity (eval). Default false. */
  training?: boolean;
  /** Use ORT's com.microsoft contrib ops (FusedMatMul, Gelu). Default true; off for float64 checks. */
  contribOps?: boolean | undefined;
  /** Write model.onnx + weights.bin here (external data) instead of returning bytes in memory. */
  externalDataDir?: string | undefined;
  /** Size limit for an in-memory model (default 2 GB minus 64 MB of headroom); tests lower it. */
  maxInlineBytes?: number;
}

export interface EmittedModel {
  /** The serialized model, or undefined when written to `path`. */
  bytes?: Uint8Array | undefined;
  path?: string;
  /** Graph inputs, in order. */
  inputs: Value[];
  outputNames: string[];
  nodeCount: number;
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

  const { needed, usedValues } = prune(opts.outputs.map(([, v]) => v));
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
  const ctx = { contrib, training, name, fresh, ints, floatScalar, constInit };
  for (const n of g.nodes) {
    if (!needed.has(n)) continue;
    const lower = lowerings.get(n.op);
    if (!lower)
      throw new GraphError(`emitOnnx: no ONNX lowering for op '${n.op}'; add one to src/graph/onnx/lowerings.ts`);
    lower({
      ...ctx,
      node: n,
      ins: n.inputs.map(name),
      outs: n.outputs.map(name),
      push: (p) => {
        if (p.domain === 'com.microsoft') usesContrib = true;
        nodes.push(p);
      },
    });
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

  const written = writeModel(model, initializers, opts);
  return { ...written, inputs, outputNames, nodeCount: nodes.length };
}

/** The nodes the outputs depend on, and every value they touch. */
function prune(outputs: readonly Value[]): { needed: Set<Node>; usedValues: Set<Value> } {
  const needed = new Set<Node>();
  const usedValues = new Set<Value>();
  const stack = [...outputs];
  while (stack.length) {
    const v = stack.pop()!;
    if (usedValues.has(v)) continue;
    usedValues.add(v);
    if (v.producer && !needed.has(v.producer)) {
      needed.add(v.producer);
      for (const i of v.producer.inputs) if (i) stack.push(i);
    }
  }
  return { needed, usedValues };
}

/**
 * Serializes the model: in memory (refused over `maxInlineBytes`: protobuf's 2 GB limit), or to
 * `externalDataDir` as model.onnx + weights.bin (initializers of 1 KB and more).
 */
function writeModel(
  model: onnxProto.onnx.IModelProto,
  initializers: onnxProto.onnx.ITensorProto[],
  opts: EmitOptions,
): { bytes?: Uint8Array; path?: string } {
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
    return { path };
  }
  if (initBytes > limit) {
    throw new OnnxSizeError(
      `the model's weights take ${(initBytes / 2 ** 30).toFixed(2)} GB, over protobuf's 2 GB limit: pass externalDataDir (a writable directory) to store them as external data`,
    );
  }
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  return { bytes };
}
