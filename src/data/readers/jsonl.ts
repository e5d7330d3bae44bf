/**
 * JSON Lines reader (SuperGLUE's format): one JSON object per line; blank lines are skipped; a
 * BOM and CRLF line ends are accepted. Bad JSON is an error naming file:line.
 */
import { DataError } from '../errors.js';
import { readTextFile } from './text.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonRecord = { [key: string]: JsonValue };

export interface RecordTable {
  source: string;
  /** Keys seen in the records, in first-seen order. */
  columns: string[];
  records: JsonRecord[];
  /** 1-based line (JSONL) or 1-based row number (Parquet) of each record. */
  lines: number[];
}

export function readJsonl(path: string, options: { maxRows?: number } = {}): RecordTable {
  const buf = readTextFile(path);
  return parseJsonl(buf.toString('utf8'), path, options);
}

export function parseJsonl(text: string, source: string, options: { maxRows?: number } = {}): RecordTable {
  const maxRows = options.maxRows ?? Infinity;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: JsonRecord[] = [];
  const lines: number[] = [];
  const seen = new Set<string>();
  const columns: string[] = [];
  let start = 0;
  let line = 1;
  while (start < text.length && records.length < maxRows) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const raw = text.slice(start, end).trim();
    if (raw.length > 0) {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (e) {
        throw new DataError(`invalid JSON (${(e as Error).message}); fix: each line must be one complete JSON object`, {
          file: source,
          line,
        });
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new DataError(
          'line is JSON but not an object; fix: each line must be one JSON object like {"text": ..., "label": ...}',
          { file: source, line },
        );
      }
      const rec = value as JsonRecord;
      for (const k of Object.keys(rec)) {
        if (!seen.has(k)) {
          seen.add(k);
          columns.push(k);
        }
      }
      records.push(rec);
      lines.push(line);
    }
    start = end + 1;
    line++;
  }
  return { source, columns, records, lines };
}
