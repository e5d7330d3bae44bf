/**
 * The frozen-prefix rows shared by the trials of a study (issue 12): the input of layer k for every
 * example of a token stream, stored once per (model, layer, token stream) and reused by every later
 * trial whose lowest adapted layer is k — in this process (a byte-bounded LRU in memory) and in the
 * other processes of a worker pool (files in a directory, byte-bounded, least recently used evicted).
 *
 * Keys are content hashes: sha256 of the model's weights fingerprint (`Backbone.fingerprint`), the
 * layer, and the stream's token ids, type ids and offsets (so the data subset, its order and
 * `maxLength`'s truncation are all in the key). Two trials that would compute the same rows find the
 * same entry; nothing else does, so the store needs no invalidation.
 *
 * Exactness: `float32` files (the default) hold the rows bit for bit, so a trial reading them trains
 * exactly as one that computed them. `float16` halves the disk and is not exact (relative rounding
 * ~5e-4 per value). Files are written to a temporary name and renamed, so a reader in another
 * process sees a whole file or none; a file that does not parse is a miss (and is removed).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { f16ToF32, f32ToF16 } from '../models/io/half.js';
import { TrainingError } from './errors.js';

export type StoreDtype = 'float32' | 'float16';

export interface PrefixStoreOptions {
  /** Directory of the shared files; absent: memory only (one process). */
  dir?: string | undefined;
  /** Bound of the in-memory LRU (default 1e9 bytes; 0 keeps nothing in memory). */
  maxMemoryBytes?: number | undefined;
  /** Bound of the directory's files (default 4e9 bytes); the least recently used go first. */
  maxDiskBytes?: number | undefined;
  /** Precision of the files (default float32: exact). Memory always holds float32. */
  dtype?: StoreDtype | undefined;
}

/** The token stream a key is computed from (a `TokenizedSet` or its second stream). */
export interface StreamTokens {
  ids: Int32Array;
  offsets: Int32Array;
  typeIds?: Uint8Array | undefined;
}

/** The content key of one stream's rows at `layer` of the model with this fingerprint. */
export function streamKey(model: string, layer: number, t: StreamTokens): string {
  const h = createHash('sha256').update(`autopeft-prefix-v1\0${model}\0${layer}\0`);
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  h.update(bytes(t.offsets)).update('\0').update(bytes(t.ids)).update('\0');
  if (t.typeIds) h.update(bytes(t.typeIds));
  return h.digest('hex');
}

const MAGIC = 0x58465041; // 'APFX'
const HEADER = 16; // magic, dtype, width, n (u32 each)

/** The file's bytes: header, n token counts (u32), then the rows laid end to end. */
export function encodeRows(rows: readonly Float32Array[], width: number, dtype: StoreDtype): Uint8Array {
  const values = rows.reduce((s, r) => s + r.length, 0);
  const elem = dtype === 'float32' ? 4 : 2;
  const buf = new ArrayBuffer(HEADER + 4 * rows.length + elem * values);
  new Uint32Array(buf, 0, 4).set([MAGIC, dtype === 'float32' ? 0 : 1, width, rows.length]);
  const counts = new Uint32Array(buf, HEADER, rows.length);
  let at = HEADER + 4 * rows.length;
  rows.forEach((r, i) => {
    counts[i] = r.length / width;
    if (dtype === 'float32') new Float32Array(buf, at, r.length).set(r);
    else new Uint16Array(buf, at, r.length).set(f32ToF16(r));
    at += elem * r.length;
  });
  return new Uint8Array(buf);
}

/** The rows of a file written by `encodeRows`, or undefined when it is not one (truncated, foreign). */
export function decodeRows(bytes: Uint8Array): { rows: Float32Array[]; width: number } | undefined {
  if (bytes.byteLength < HEADER) return undefined;
  // Copy into an aligned buffer: a Buffer from readFile may start at any offset of its pool.
  const buf = new Uint8Array(bytes).buffer;
  const [magic, dt, width, n] = new Uint32Array(buf, 0, 4) as unknown as [number, number, number, number];
  if (magic !== MAGIC || (dt !== 0 && dt !== 1) || width === 0 || HEADER + 4 * n > buf.byteLength) return undefined;
  const elem = dt === 0 ? 4 : 2;
  const counts = new Uint32Array(buf, HEADER, n);
  const total = counts.reduce((s, c) => s + c * width, 0);
  if (HEADER + 4 * n + elem * total !== buf.byteLength) return undefined;
  let at = HEADER + 4 * n;
  const rows: Float32Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const len = counts[i]! * width;
    rows[i] = dt === 0 ? new Float32Array(buf, at, len) : f16ToF32(new Uint16Array(buf, at, len));
    at += elem * len;
  }
  return { rows, width };
}

const rowBytes = (rows: readonly Float32Array[]) => rows.reduce((s, r) => s + r.byteLength, 0);

export interface PrefixStoreStats {
  memoryHits: number;
  diskHits: number;
  misses: number;
  memoryBytes: number;
}

export class PrefixStore {
  private readonly memory = new Map<string, { rows: Float32Array[]; width: number }>();
  private memoryBytes = 0;
  private readonly maxMemory: number;
  private readonly maxDisk: number;
  private readonly dtype: StoreDtype;
  readonly stats: PrefixStoreStats = { memoryHits: 0, diskHits: 0, misses: 0, memoryBytes: 0 };

  constructor(readonly opts: PrefixStoreOptions = {}) {
    this.maxMemory = opts.maxMemoryBytes ?? 1e9;
    this.maxDisk = opts.maxDiskBytes ?? 4e9;
    this.dtype = opts.dtype ?? 'float32';
    for (const [k, v] of [
      ['maxMemoryBytes', this.maxMemory],
      ['maxDiskBytes', this.maxDisk],
    ] as const)
      if (!(v >= 0)) throw new TrainingError(`prefix store: ${k} must be a number >= 0, got ${v}`);
    if (this.dtype !== 'float32' && this.dtype !== 'float16')
      throw new TrainingError(`prefix store: dtype must be float32 or float16, got '${this.dtype}'`);
  }

  private file(key: string): string {
    return join(this.opts.dir!, `${key}.rows`);
  }

  /** The rows stored under `key` (memory first, then the directory), or undefined. */
  async get(key: string, width: number): Promise<Float32Array[] | undefined> {
    const hit = this.memory.get(key);
    if (hit && hit.width === width) {
      this.memory.delete(key);
      this.memory.set(key, hit); // most recently used last
      this.stats.memoryHits++;
      return hit.rows;
    }
    if (this.opts.dir) {
      const path = this.file(key);
      const bytes = await readFile(path).catch(() => undefined);
      const got = bytes && decodeRows(bytes);
      if (got && got.width === width) {
        const now = new Date();
        await utimes(path, now, now).catch(() => {}); // the LRU order of the directory is by mtime
        this.remember(key, got.rows, width);
        this.stats.diskHits++;
        return got.rows;
      }
      if (bytes) await unlink(path).catch(() => {});
    }
    this.stats.misses++;
    return undefined;
  }

  /** Stores `rows` under `key` in memory and, with a directory, in a file (then evicts over the bounds). */
  async put(key: string, rows: Float32Array[], width: number): Promise<void> {
    this.remember(key, rows, width);
    const dir = this.opts.dir;
    if (!dir || this.maxDisk === 0) return;
    const bytes = encodeRows(rows, width, this.dtype);
    if (bytes.byteLength > this.maxDisk) return;
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${key}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    await writeFile(tmp, bytes);
    await rename(tmp, this.file(key));
    await this.evictDisk();
  }

  private remember(key: string, rows: Float32Array[], width: number): void {
    const size = rowBytes(rows);
    if (this.memory.has(key) || size > this.maxMemory) return;
    this.memory.set(key, { rows, width });
    this.memoryBytes += size;
    for (const [k, r] of this.memory) {
      if (this.memoryBytes <= this.maxMemory) break;
      this.memory.delete(k);
      this.memoryBytes -= rowBytes(r.rows);
    }
    this.stats.memoryBytes = this.memoryBytes;
  }

  /** Deletes the least recently used files (by mtime) until the directory is within its bound. */
  private async evictDisk(): Promise<void> {
    const dir = this.opts.dir!;
    const names = (await readdir(dir)).filter((n) => n.endsWith('.rows'));
    const files = (
      await Promise.all(
        names.map(async (n) => {
          const s = await stat(join(dir, n)).catch(() => undefined);
          return s && { path: join(dir, n), size: s.size, mtime: s.mtimeMs };
        }),
      )
    ).filter((f) => f !== undefined);
    let total = files.reduce((s, f) => s + f.size, 0);
    files.sort((a, b) => a.mtime - b.mtime);
    for (const f of files) {
      if (total <= this.maxDisk) break;
      await unlink(f.path).catch(() => {});
      total -= f.size;
    }
  }
}

/**
 * Where a process's shared store keeps its files: `$AUTOPEFT_PREFIX_CACHE_DIR`, else
 * `<temp dir>/autopeft-prefix-cache`; `none`: no files (each process keeps its own rows in memory).
 */
export function defaultPrefixDir(): string | undefined {
  const env = process.env.AUTOPEFT_PREFIX_CACHE_DIR;
  if (env === 'none') return undefined;
  return env || join(tmpdir(), 'autopeft-prefix-cache');
}

let processStore: PrefixStore | undefined;

/**
 * The store the trials of this process share (a pool worker runs many): memory-bounded, backed by
 * `defaultPrefixDir()`, whose files the other workers of the study read too. Bounds:
 * `$AUTOPEFT_PREFIX_CACHE_MEMORY` / `$AUTOPEFT_PREFIX_CACHE_DISK` (bytes; default 1e9 / 4e9).
 */
export function sharedPrefixStore(): PrefixStore {
  const bytes = (name: string) => {
    const v = process.env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!(n >= 0)) throw new TrainingError(`$${name} must be a byte count >= 0, got '${v}'`);
    return n;
  };
  processStore ??= new PrefixStore({
    dir: defaultPrefixDir(),
    maxMemoryBytes: bytes('AUTOPEFT_PREFIX_CACHE_MEMORY'),
    maxDiskBytes: bytes('AUTOPEFT_PREFIX_CACHE_DISK'),
  });
  return processStore;
}
