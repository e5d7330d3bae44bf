/**
 * Safetensors reader and writer (https://github.com/huggingface/safetensors, format v0.x):
 *   [u64 little-endian N][N bytes of UTF-8 JSON header, space padded][data section]
 * Header: {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}}
 * with offsets relative to the data section, contiguous from 0 and ending at its last byte.
 *
 * Reading is lazy: `SafetensorsFile.open` reads only the header; each tensor is then read with a
 * positioned read straight into its destination typed array, so a 440 MB BERT-base file never
 * sits in memory twice (F16/BF16 tensors pass through one temporary of their own size).
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { SafetensorsError } from './errors.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';

/** Every dtype the format defines, with its element size in bytes. */
const DTYPE_SIZES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_SIZES;
/** Dtypes this reader can return; floats all come back as Float32Array. */
export type ReadableDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32';
/** Dtypes the writer can store. */
export type WritableDtype = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32';

export type TensorData = Float32Array | Int32Array | BigInt64Array;

/** One header entry; `begin`/`end` are byte offsets into the data section. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** A tensor as read: float dtypes widened to Float32Array, I32 -> Int32Array, I64 -> BigInt64Array. */
export interface LoadedTensor {
  /** Dtype stored in the file. */
  readonly dtype: ReadableDtype;
  readonly shape: number[];
  readonly data: TensorData;
}

/** A float tensor: `data` is row-major with `shape` (product of shape = data.length). */
export interface FloatTensor {
  data: Float32Array;
  shape: number[];
}

/** A tensor to write. Float32 data may be stored as F32 (default), F16 or BF16. */
export interface WritableTensor {
  readonly data: Float32Array | Int32Array | BigInt64Array;
  readonly shape: readonly number[];
  /** Storage dtype; default F32 / I32 / I64 from the array type. */
  readonly dtype?: WritableDtype;
}

export interface ParsedHeader {
  /** Entries in data-section order. */
  readonly tensors: TensorInfo[];
  readonly metadata: Record<string, string>;
  /** Bytes the data section must have (end of the last tensor). */
  readonly dataSize: number;
}

/** Upper bound on the JSON header, as in the reference implementation. */
const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parse and validate a header (the N bytes after the length prefix). Checks the JSON, the
 * `__metadata__` map, each entry's dtype, shape and offsets, shape vs byte size, and that the
 * offsets tile [0, dataSize) with no gap or overlap.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, file: string): ParsedHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(
      file,
      `${file}: safetensors header is not valid UTF-8 (not a safetensors file, or corrupted)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(
      file,
      `${file}: safetensors header is not valid JSON (${(e as Error).message}); the file is corrupted or not safetensors`,
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SafetensorsError(file, `${file}: safetensors header must be a JSON object`);
  }
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw new SafetensorsError(file, `${file}: __metadata__ must be an object of string values`);
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string')
          throw new SafetensorsError(file, `${file}: __metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    const bad = (why: string): SafetensorsError =>
      new SafetensorsError(file, `${file}: tensor '${name}': ${why}`, name);
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw bad('header entry must be an object');
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_SIZES, dtype)) {
      throw bad(`unknown dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPE_SIZES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt))
      throw bad(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt) || offsets[0] > offsets[1]) {
      throw bad(`data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
    }
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const bytes = numel * DTYPE_SIZES[dtype as SafetensorsDtype];
    const [begin, end] = offsets as [number, number];
    if (end - begin !== bytes)
      throw bad(`shape ${JSON.stringify(shape)} x ${dtype} needs ${bytes} bytes but data_offsets span ${end - begin}`);
    tensors.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev = '';
  for (const t of tensors) {
    if (t.begin !== pos) {
      const why = t.begin > pos ? `a gap of ${t.begin - pos} bytes before it` : `it overlaps '${prev}'`;
      throw new SafetensorsError(
        file,
        `${file}: tensor '${t.name}' starts at byte ${t.begin} of the data section but the previous tensor ends at ${pos} (${why}); the header is corrupted`,
        t.name,
      );
    }
    pos = t.end;
    prev = t.name;
  }
  return { tensors, metadata, dataSize: pos };
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** Turn the raw little-endian bytes of one tensor into its typed array. `raw` may be reused. */
function decodeTensor(info: TensorInfo, raw: Uint8Array, file: string): LoadedTensor {
  const n = elementCount(info.shape);
  const shape = [...info.shape];
  // Copy into fresh, aligned storage unless `raw` already is exactly that.
  const aligned = (size: number): ArrayBuffer => {
    if (raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength && raw.buffer instanceof ArrayBuffer)
      return raw.buffer;
    const copy = new Uint8Array(n * size);
    copy.set(raw);
    return copy.buffer;
  };
  if (!LITTLE_ENDIAN_HOST) swapBytes(raw, DTYPE_SIZES[info.dtype]);
  switch (info.dtype) {
    case 'F32':
      return { dtype: 'F32', shape, data: new Float32Array(aligned(4), 0, n) };
    case 'F16':
      return { dtype: 'F16', shape, data: f16ToF32(new Uint16Array(aligned(2), 0, n)) };
    case 'BF16':
      return { dtype: 'BF16', shape, data: bf16ToF32(new Uint16Array(aligned(2), 0, n)) };
    case 'F64':
      // NOTE: F64 is narrowed to float32 (round to nearest); the engine computes in float32.
      return { dtype: 'F64', shape, data: Float32Array.from(new Float64Array(aligned(8), 0, n)) };
    case 'I32':
      return { dtype: 'I32', shape, data: new Int32Array(aligned(4), 0, n) };
    case 'I64':
      return { dtype: 'I64', shape, data: new BigInt64Array(aligned(8), 0, n) };
    default:
      throw new SafetensorsError(
        file,
        `${file}: tensor '${info.name}' has dtype ${info.dtype}, which this reader does not support (supported: F32, F16, BF16, F64, I32, I64); convert the checkpoint`,
        info.name,
      );
  }
}

function checkDataSize(file: string, header: ParsedHeader, available: number): void {
  if (available < header.dataSize) {
    const cut = header.tensors.find((t) => t.end > available);
    const name = cut?.name ?? '';
    throw new SafetensorsError(
      file,
      `${file} is truncated: tensor '${name}' needs bytes [${cut?.begin}, ${cut?.end}) of the data section but only ${available} of ${header.dataSize} are present; re-download or re-export the file`,
      name,
    );
  }
  if (available > header.dataSize) {
    throw new SafetensorsError(
      file,
      `${file}: ${available - header.dataSize} unexpected trailing bytes after the last tensor (data section should be ${header.dataSize} bytes); the file is corrupted`,
    );
  }
}

function headerLength(prefix: Uint8Array, file: string, fileSize: number): number {
  if (fileSize < 8)
    throw new SafetensorsError(
      file,
      `${file} is truncated: ${fileSize} bytes, shorter than the 8-byte header length prefix; re-download the file`,
    );
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES))
    throw new SafetensorsError(
      file,
      `${file}: header length ${n} exceeds ${MAX_HEADER_BYTES} bytes; not a safetensors file (a PyTorch .bin? convert it to safetensors)`,
    );
  if (8n + n > BigInt(fileSize))
    throw new SafetensorsError(
      file,
      `${file} is truncated: header says ${n} bytes of JSON but the file has ${fileSize} bytes in all; re-download the file`,
    );
  return Number(n);
}

/** A safetensors file opened for lazy, per-tensor reads. Call `close()` when done. */
export class SafetensorsFile {
  readonly path: string;
  readonly metadata: Record<string, string>;
  /** Header entries by name (data-section order). */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  private readonly handle: FileHandle;
  private readonly dataStart: number;

  private constructor(path: string, handle: FileHandle, header: ParsedHeader, dataStart: number) {
    this.path = path;
    this.handle = handle;
    this.metadata = header.metadata;
    this.tensors = new Map(header.tensors.map((t) => [t.name, t]));
    this.dataStart = dataStart;
  }

  /** Open `path`, read and validate its header (and that the file holds every tensor's bytes). */
  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      throw new SafetensorsError(
        path,
        `${path}: cannot open safetensors file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path`,
      );
    }
    try {
      const size = (await handle.stat()).size;
      const prefix = new Uint8Array(8);
      await readFully(handle, prefix, 0, path, 'header length');
      const n = headerLength(prefix, path, size);
      const headerBytes = new Uint8Array(n);
      await readFully(handle, headerBytes, 8, path, 'header');
      const header = parseSafetensorsHeader(headerBytes, path);
      checkDataSize(path, header, size - 8 - n);
      return new SafetensorsFile(path, handle, header, 8 + n);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  /** Read one tensor (floats widened to Float32Array). */
  async read(name: string): Promise<LoadedTensor> {
    const info = this.tensors.get(name);
    if (!info) throw new SafetensorsError(this.path, `${this.path}: no tensor named '${name}'`, name);
    const raw = new Uint8Array(info.end - info.begin);
    await readFully(this.handle, raw, this.dataStart + info.begin, this.path, `tensor '${name}'`);
    return decodeTensor(info, raw, this.path);
  }

  /** Read one floating-point tensor; errors (naming it) when its dtype is an integer type. */
  async readFloat(name: string): Promise<FloatTensor> {
    const t = await this.read(name);
    if (!(t.data instanceof Float32Array)) {
      throw new SafetensorsError(
        this.path,
        `${this.path}: tensor '${name}' has integer dtype ${t.dtype}, expected a float tensor`,
        name,
      );
    }
    return { data: t.data, shape: t.shape };
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function readFully(
  handle: FileHandle,
  into: Uint8Array,
  position: number,
  file: string,
  what: string,
): Promise<void> {
  let done = 0;
  // fs reads are capped near 2 GiB per call; loop in 1 GiB pieces.
  while (done < into.length) {
    const len = Math.min(into.length - done, 1 << 30);
    const { bytesRead } = await handle.read(into, done, len, position + done);
    if (bytesRead === 0) {
      throw new SafetensorsError(
        file,
        `${file} is truncated while reading ${what} (got ${done} of ${into.length} bytes); re-download the file`,
      );
    }
    done += bytesRead;
  }
}

/**
 * Read every tensor of a safetensors file (or those `filter` keeps). Tensors are read one at a
 * time from the file handle; peak memory is the result plus one tensor's raw bytes.
 */
export async function readSafetensors(
  path: string,
  filter?: (name: string, info: TensorInfo) => boolean,
): Promise<{ metadata: Record<string, string>; tensors: Map<string, LoadedTensor> }> {
  const f = await SafetensorsFile.open(path);
  try {
    const tensors = new Map<string, LoadedTensor>();
    for (const [name, info] of f.tensors) {
      if (filter && !filter(name, info)) continue;
      tensors.set(name, await f.read(name));
    }
    return { metadata: f.metadata, tensors };
  } finally {
    await f.close();
  }
}

/** Decode a whole safetensors file held in memory. `file` names it in errors. */
export function decodeSafetensors(
  bytes: Uint8Array,
  file = '<memory>',
): { metadata: Record<string, string>; tensors: Map<string, LoadedTensor> } {
  const n = headerLength(bytes.subarray(0, 8), file, bytes.length);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), file);
  checkDataSize(file, header, bytes.length - 8 - n);
  const tensors = new Map<string, LoadedTensor>();
  for (const info of header.tensors) {
    const raw = bytes.slice(8 + n + info.begin, 8 + n + info.end);
    tensors.set(info.name, decodeTensor(info, raw, file));
  }
  // Keep the header's own key order for the caller.
  return { metadata: header.metadata, tensors };
}

function storageDtype(name: string, t: WritableTensor): WritableDtype {
  const d = t.data;
  const want = t.dtype;
  if (d instanceof Float32Array) {
    const dt = want ?? 'F32';
    if (dt !== 'F32' && dt !== 'F16' && dt !== 'BF16')
      throw new TypeError(`tensor '${name}': Float32Array data cannot be stored as ${dt}`);
    return dt;
  }
  if (d instanceof Int32Array) {
    if (want !== undefined && want !== 'I32')
      throw new TypeError(`tensor '${name}': Int32Array data cannot be stored as ${want}`);
    return 'I32';
  }
  if (want !== undefined && want !== 'I64')
    throw new TypeError(`tensor '${name}': BigInt64Array data cannot be stored as ${want}`);
  return 'I64';
}

function tensorBytes(t: WritableTensor, dtype: WritableDtype): Uint8Array {
  let out: Uint8Array;
  if (dtype === 'F16') out = new Uint8Array(f32ToF16(t.data as Float32Array).buffer);
  else if (dtype === 'BF16') out = new Uint8Array(f32ToBf16(t.data as Float32Array).buffer);
  else out = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (!LITTLE_ENDIAN_HOST) {
    out = out.slice();
    swapBytes(out, DTYPE_SIZES[dtype]);
  }
  return out;
}

interface Layout {
  /** Space-padded header JSON bytes (length a multiple of 8). */
  header: Uint8Array;
  /** Tensor bytes in file order. */
  chunks: Uint8Array[];
  dataSize: number;
}

/**
 * Lay tensors out by element size (largest first) then name, as the Python implementation does,
 * with the header space-padded to a multiple of 8 so every tensor starts aligned to its size.
 */
function layout(
  tensors: ReadonlyMap<string, WritableTensor> | Readonly<Record<string, WritableTensor>>,
  metadata?: Readonly<Record<string, string>>,
): Layout {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const items = entries.map(([name, t]) => {
    if (name === '__metadata__') throw new TypeError(`'__metadata__' is reserved and cannot name a tensor`);
    if (!t.shape.every(isNonNegInt))
      throw new TypeError(`tensor '${name}': shape must be non-negative integers, got ${JSON.stringify(t.shape)}`);
    if (elementCount(t.shape) !== t.data.length) {
      throw new TypeError(
        `tensor '${name}': shape ${JSON.stringify(t.shape)} has ${elementCount(t.shape)} elements but data has ${t.data.length}`,
      );
    }
    const dtype = storageDtype(name, t);
    return { name, t, dtype, size: DTYPE_SIZES[dtype] };
  });
  items.sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header['__metadata__'] = { ...metadata };
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const { name, t, dtype } of items) {
    const bytes = tensorBytes(t, dtype);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
    chunks.push(bytes);
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(headerBytes);
    headerBytes = p;
  }
  return { header: headerBytes, chunks, dataSize: offset };
}

function lengthPrefix(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

/** Serialise tensors (+ string metadata) to safetensors bytes, in memory. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, WritableTensor> | Readonly<Record<string, WritableTensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const { header, chunks, dataSize } = layout(tensors, metadata);
  const out = new Uint8Array(8 + header.length + dataSize);
  out.set(lengthPrefix(header.length), 0);
  out.set(header, 8);
  let pos = 8 + header.length;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/**
 * Write a safetensors file atomically (temp file in the same folder, then rename). F32/I32/I64
 * tensors are written straight from their arrays (no whole-file buffer).
 */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, WritableTensor> | Readonly<Record<string, WritableTensor>>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const { header, chunks } = layout(tensors, metadata);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fh = await open(tmp, 'w');
    try {
      for (const c of [lengthPrefix(header.length), header, ...chunks]) {
        // A single write may be partial for very large buffers: loop.
        for (let done = 0; done < c.length; )
          done += (await fh.write(c, done, Math.min(c.length - done, 1 << 30))).bytesWritten;
      }
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}
