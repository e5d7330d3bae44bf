/**
 * Reader for TensorFlow.js weights manifests (the `weightsManifest` of a tfjs `model.json`).
 *
 * Format (tfjs-core io/types.ts): `weightsManifest` is a list of groups `{paths, weights}`. A
 * group's shard files (`paths`, relative to model.json) are concatenated in order into one byte
 * buffer; its `weights` are laid out back to back in that buffer, little-endian, without padding.
 * A weight may be stored quantized: `quantization: {dtype: 'uint8'|'uint16', scale, min}` (value =
 * q * scale + min, rounded for int32 weights) or `{dtype: 'float16'}` (IEEE half floats, float32
 * weights only). Everything comes back dequantized as Float32Array / Int32Array.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ModelFileError } from './errors.js';
import { f16BitsToF32Bits, f32FromBits } from './half.js';

/** A manifest or shard is malformed, truncated or uses an unsupported dtype. */
export class TfjsWeightsError extends ModelFileError {
  /** Weight name the problem is about, when there is one. */
  readonly weight: string | undefined;
  constructor(file: string, message: string, weight?: string) {
    super(file, message);
    this.name = 'TfjsWeightsError';
    this.weight = weight;
  }
}

export type TfjsDType = 'float32' | 'int32';

/** One decoded weight: row-major `data` of `shape` (scalar: shape []). */
export interface TfjsTensor {
  data: Float32Array | Int32Array;
  shape: number[];
  dtype: TfjsDType;
}

export interface TfjsQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  scale?: number;
  min?: number;
}

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: TfjsDType;
  quantization?: TfjsQuantization;
}

export interface TfjsWeightsGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

/** A parsed model.json: the graph (left opaque here) and the validated weights manifest. */
export interface TfjsModelJson {
  modelTopology: unknown;
  weightsManifest: TfjsWeightsGroup[];
  /** Other top-level fields (format, generatedBy, signature, ...), untouched. */
  extra: Record<string, unknown>;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Validates the manifest structure; `file` names model.json in errors. */
export function parseWeightsManifest(manifest: unknown, file: string): TfjsWeightsGroup[] {
  if (!Array.isArray(manifest)) {
    throw new TfjsWeightsError(
      file,
      `${file}: "weightsManifest" must be a list of {paths, weights} groups; re-export the model with the tfjs converter`,
    );
  }
  return manifest.map((g: unknown, gi: number): TfjsWeightsGroup => {
    const where = `${file}: weightsManifest[${gi}]`;
    if (!isRecord(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) {
      throw new TfjsWeightsError(file, `${where} must have "paths" (shard file names) and "weights" (specs) lists`);
    }
    const paths = g.paths.map((p: unknown, pi: number) => {
      if (typeof p !== 'string' || p.length === 0)
        throw new TfjsWeightsError(file, `${where}.paths[${pi}] must be a non-empty file name`);
      return p;
    });
    const weights = g.weights.map((w: unknown, wi: number): TfjsWeightSpec => {
      const wwhere = `${where}.weights[${wi}]`;
      if (!isRecord(w) || typeof w.name !== 'string')
        throw new TfjsWeightsError(file, `${wwhere} must have a string "name"`);
      const name = w.name;
      if (!Array.isArray(w.shape) || !w.shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0)) {
        throw new TfjsWeightsError(
          file,
          `${wwhere} ("${name}"): "shape" must be a list of non-negative integers`,
          name,
        );
      }
      if (w.dtype !== 'float32' && w.dtype !== 'int32') {
        throw new TfjsWeightsError(
          file,
          `${wwhere} ("${name}"): dtype ${JSON.stringify(w.dtype)} is not supported (float32, int32 only)`,
          name,
        );
      }
      const spec: TfjsWeightSpec = { name, shape: w.shape as number[], dtype: w.dtype };
      if (w.quantization !== undefined) {
        const q = w.quantization;
        if (!isRecord(q) || (q.dtype !== 'uint8' && q.dtype !== 'uint16' && q.dtype !== 'float16')) {
          throw new TfjsWeightsError(
            file,
            `${wwhere} ("${name}"): quantization dtype must be uint8, uint16 or float16`,
            name,
          );
        }
        if (q.dtype === 'float16') {
          if (w.dtype !== 'float32')
            throw new TfjsWeightsError(file, `${wwhere} ("${name}"): float16 quantization needs dtype float32`, name);
          spec.quantization = { dtype: 'float16' };
        } else {
          if (typeof q.scale !== 'number' || typeof q.min !== 'number') {
            throw new TfjsWeightsError(
              file,
              `${wwhere} ("${name}"): ${q.dtype} quantization needs numeric "scale" and "min"`,
              name,
            );
          }
          spec.quantization = { dtype: q.dtype, scale: q.scale, min: q.min };
        }
      }
      return spec;
    });
    return { paths, weights };
  });
}

/** Reads and validates model.json (graph kept opaque). */
export function readTfjsModelJson(modelJsonPath: string): TfjsModelJson {
  let text: string;
  try {
    text = readFileSync(modelJsonPath, 'utf8');
  } catch (e) {
    throw new TfjsWeightsError(
      modelJsonPath,
      `${modelJsonPath}: cannot read (${(e as Error).message}); pass the path of a tfjs model.json`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TfjsWeightsError(
      modelJsonPath,
      `${modelJsonPath}: not valid JSON (${(e as Error).message}); the file is damaged, reinstall or re-export it`,
    );
  }
  if (!isRecord(json) || !('weightsManifest' in json)) {
    throw new TfjsWeightsError(modelJsonPath, `${modelJsonPath}: no "weightsManifest"; this is not a tfjs model.json`);
  }
  const { modelTopology, weightsManifest, ...extra } = json;
  return { modelTopology, weightsManifest: parseWeightsManifest(weightsManifest, modelJsonPath), extra };
}

const QUANT_BYTES = { uint8: 1, uint16: 2, float16: 2 } as const;

function numel(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes a weight occupies in its group buffer. */
export function weightByteLength(spec: TfjsWeightSpec): number {
  return numel(spec.shape) * (spec.quantization ? QUANT_BYTES[spec.quantization.dtype] : 4);
}

/** IEEE 754 half -> float (exact: every half is a float32). */
export function float16ToFloat32(h: number): number {
  return f32FromBits(f16BitsToF32Bits(h));
}

/** Decodes one weight from `bytes` (exactly weightByteLength(spec) bytes, little-endian). */
export function decodeWeight(spec: TfjsWeightSpec, bytes: Uint8Array): TfjsTensor {
  const n = numel(spec.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = spec.quantization;
  if (!q) {
    const data = spec.dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
    const f32 = spec.dtype === 'float32';
    for (let i = 0; i < n; i++) data[i] = f32 ? view.getFloat32(4 * i, true) : view.getInt32(4 * i, true);
    return { data, shape: [...spec.shape], dtype: spec.dtype };
  }
  if (q.dtype === 'float16') {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = float16ToFloat32(view.getUint16(2 * i, true));
    return { data, shape: [...spec.shape], dtype: 'float32' };
  }
  // NOTE: value = q * scale + min, as tfjs's decodeWeights does (Math.round for int32 weights).
  const scale = q.scale as number;
  const min = q.min as number;
  const data = spec.dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = q.dtype === 'uint8' ? bytes[i] : view.getUint16(2 * i, true);
    data[i] = spec.dtype === 'float32' ? v * scale + min : Math.round(v * scale + min);
  }
  return { data, shape: [...spec.shape], dtype: spec.dtype };
}

/**
 * Decodes every group: `readShard(path)` returns a shard's bytes (path as written in the manifest).
 * Throws TfjsWeightsError naming `file` when a group's shards are shorter or longer than its specs
 * need, or a name repeats.
 */
export function decodeWeightsManifest(
  groups: TfjsWeightsGroup[],
  readShard: (path: string) => Uint8Array,
  file: string,
): Map<string, TfjsTensor> {
  const out = new Map<string, TfjsTensor>();
  groups.forEach((g, gi) => {
    const shards = g.paths.map(readShard);
    const total = shards.reduce((s, b) => s + b.byteLength, 0);
    const need = g.weights.reduce((s, w) => s + weightByteLength(w), 0);
    if (total !== need) {
      const what =
        total < need
          ? `truncated: ${total} bytes, the manifest needs ${need}`
          : `${total - need} bytes longer than the manifest describes (${need})`;
      throw new TfjsWeightsError(
        file,
        `${file}: weightsManifest[${gi}] shards [${g.paths.join(', ')}] are ${what}; reinstall or re-download the shard files`,
      );
    }
    const buf = new Uint8Array(total);
    let o = 0;
    for (const s of shards) {
      buf.set(s, o);
      o += s.byteLength;
    }
    let off = 0;
    for (const w of g.weights) {
      if (out.has(w.name))
        throw new TfjsWeightsError(
          file,
          `${file}: weight "${w.name}" appears twice in weightsManifest; the manifest is damaged`,
          w.name,
        );
      const len = weightByteLength(w);
      out.set(w.name, decodeWeight(w, buf.subarray(off, off + len)));
      off += len;
    }
  });
  return out;
}

/** Reads model.json and its shards from disk (shards resolved beside model.json). */
export function readTfjsWeights(modelJsonPath: string): { model: TfjsModelJson; weights: Map<string, TfjsTensor> } {
  const model = readTfjsModelJson(modelJsonPath);
  const dir = dirname(modelJsonPath);
  const readShard = (p: string): Uint8Array => {
    const full = resolve(dir, p);
    try {
      if (!statSync(full).isFile()) throw new Error('not a file');
      return new Uint8Array(readFileSync(full));
    } catch (e) {
      throw new TfjsWeightsError(
        modelJsonPath,
        `${modelJsonPath}: shard "${p}" cannot be read (${(e as Error).message}); it must sit beside model.json`,
      );
    }
  };
  return { model, weights: decodeWeightsManifest(model.weightsManifest, readShard, modelJsonPath) };
}
