/**
 * Parquet reader through hyparquet (pure JS; Snappy and uncompressed pages built in — files
 * compressed with gzip/zstd/brotli need the `hyparquet-compressors` package, which is not a
 * dependency: the error says so). Hub datasets (`refs/convert/parquet`) are Snappy.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { DataError } from '../errors.js';
import type { JsonRecord, JsonValue, RecordTable } from './jsonl.js';

/**
 * Read a Parquet file's rows. With `columns`, only those top-level columns are decoded (the
 * schema is read first, so a missing column is a DataError listing the ones there).
 */
export async function readParquet(
  path: string,
  options: { maxRows?: number; columns?: string[] } = {},
): Promise<RecordTable> {
  let rows: Record<string, unknown>[];
  try {
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    if (options.columns !== undefined) {
      const have = parquetSchema(metadata).children.map((c) => c.element.name);
      const missing = options.columns.filter((c) => !have.includes(c));
      if (missing.length > 0) {
        throw new DataError(
          `no field "${missing[0]}" (fields: ${have.join(', ')}); fix: set the task spec's columns to fields of this file`,
          { file: path },
        );
      }
    }
    rows = await parquetReadObjects({
      file,
      metadata,
      ...(options.columns === undefined ? {} : { columns: options.columns }),
      ...(options.maxRows === undefined ? {} : { rowEnd: options.maxRows }),
    });
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const msg =
      code === 'ENOENT'
        ? 'file not found; fix: check the path'
        : `cannot read as Parquet (${(e as Error).message}); fix: check that it is a Parquet file (gzip/zstd/brotli pages need the hyparquet-compressors package)`;
    throw new DataError(msg, { file: path });
  }
  return parquetRowsToTable(rows, path);
}

/**
 * Turn hyparquet's row objects into a RecordTable: bigint -> number (exact below 2^53, else an
 * error), Date -> ISO string, typed arrays -> number arrays; other values kept as JSON.
 */
export function parquetRowsToTable(rows: Record<string, unknown>[], source: string): RecordTable {
  const columns: string[] = [];
  const seen = new Set<string>();
  const records: JsonRecord[] = [];
  const lines: number[] = [];
  rows.forEach((row, r) => {
    const rec: JsonRecord = {};
    for (const [k, v] of Object.entries(row)) {
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
      rec[k] = toJson(v, source, r + 1, k);
    }
    records.push(rec);
    lines.push(r + 1);
  });
  return { source, columns, records, lines };
}

function toJson(v: unknown, source: string, row: number, key: string): JsonValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new DataError(
        `row ${row}, column "${key}": integer ${v} is too large for a label or text; fix: use a smaller integer column`,
        { file: source },
      );
    }
    return Number(v);
  }
  if (v instanceof Date) return v.toISOString();
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    if (v instanceof Uint8Array) return new TextDecoder().decode(v);
    return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? Number(x) : x));
  }
  if (Array.isArray(v)) return v.map((x) => toJson(x, source, row, key));
  if (typeof v === 'object') {
    const o: JsonRecord = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = toJson(x, source, row, key);
    return o;
  }
  return String(v);
}
