/**
 * TSV / CSV reader.
 *
 * Two quoting modes, because the files in the wild differ:
 * - `none` (default for TSV): a field is everything between two delimiters. This is how the GLUE
 *   TSVs must be read: they are not quote-aware (MRPC, RTE and STS-B rows contain unbalanced `"`
 *   inside sentences, e.g. MRPC dev `... fit our long-term growth strategy.` opening with a bare
 *   `"`), and Hugging Face's loaders read them with `quoting=csv.QUOTE_NONE` too.
 * - `rfc4180` (default for CSV): fields may be wrapped in double quotes, `""` is a literal quote,
 *   and quoted fields may hold delimiters and line breaks.
 *
 * Both modes: a UTF-8 BOM is dropped, CRLF and LF line ends are accepted, a missing final newline
 * is fine, blank lines are skipped, and a row whose field count differs from the header's (or from
 * the first row's, without a header) is an error naming file:line (or is skipped and counted, when
 * `onRagged: 'skip'`, which QQP's known broken train rows need).
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../errors.js';

export type Quoting = 'none' | 'rfc4180';

export interface DelimitedOptions {
  /** Field separator: '\t' (default) or ','; any single character. */
  delimiter?: string;
  /** Default: 'none' for tab, 'rfc4180' for anything else. */
  quoting?: Quoting;
  /** true (default): the first row names the columns; false: columns are named '0', '1', ... */
  header?: boolean;
  /** What to do with rows whose field count differs: 'error' (default) or 'skip'. */
  onRagged?: 'error' | 'skip';
  /** Stop after this many data rows (for quick looks at big files). */
  maxRows?: number;
}

export interface Table {
  /** The file path (or the name given to `parseDelimited`), for error messages. */
  source: string;
  /** Column names: from the header, or '0', '1', ... without one. */
  columns: string[];
  /** Data rows; each has `columns.length` fields. */
  rows: string[][];
  /** 1-based line number where each row starts (same length as `rows`). */
  lines: number[];
  /** Ragged rows skipped under `onRagged: 'skip'` (their line numbers). */
  skipped: number[];
}

/** Read a delimited file (UTF-8). */
export function readDelimited(path: string, options: DelimitedOptions = {}): Table {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)}); fix: check the path`, { file: path });
  }
  return parseDelimited(text, path, options);
}

/** Parse delimited text; `source` names it in errors. */
export function parseDelimited(text: string, source: string, options: DelimitedOptions = {}): Table {
  const delimiter = options.delimiter ?? '\t';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new DataError(`delimiter must be one character other than '"' or a line break, got ${JSON.stringify(delimiter)}; fix: use '\\t' or ','`, { file: source });
  }
  const quoting: Quoting = options.quoting ?? (delimiter === '\t' ? 'none' : 'rfc4180');
  const header = options.header ?? true;
  const onRagged = options.onRagged ?? 'error';
  const maxRows = options.maxRows ?? Infinity;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const records = quoting === 'none' ? splitPlain(text, delimiter) : splitRfc4180(text, delimiter, source);
  let columns: string[] | undefined;
  const rows: string[][] = [];
  const lines: number[] = [];
  const skipped: number[] = [];
  for (const rec of records) {
    if (columns === undefined) {
      if (header) {
        columns = rec.fields.map((c) => c.trim());
        continue;
      }
      columns = rec.fields.map((_, i) => String(i));
    }
    if (rec.fields.length !== columns.length) {
      if (onRagged === 'skip') {
        skipped.push(rec.line);
        continue;
      }
      const what = header ? 'the header has' : 'the first row has';
      throw new DataError(
        `row has ${rec.fields.length} fields but ${what} ${columns.length}; fix: repair the row, or check the delimiter/quoting (${quoting === 'none' ? "quoting 'none': quotes are plain text" : "quoting 'rfc4180'"})`,
        { file: source, line: rec.line },
      );
    }
    if (rows.length >= maxRows) break;
    rows.push(rec.fields);
    lines.push(rec.line);
  }
  if (columns === undefined) throw new DataError('file is empty; fix: point at a file with data rows', { file: source });
  return { source, columns, rows, lines, skipped };
}

interface RawRecord {
  fields: string[];
  line: number;
}

/** Quote-unaware split: one record per non-blank line. */
function* splitPlain(text: string, delimiter: string): Generator<RawRecord> {
  let start = 0;
  let line = 1;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--; // CRLF
    if (stop > start) yield { fields: text.slice(start, stop).split(delimiter), line };
    start = end + 1;
    line++;
  }
}

/** RFC 4180 split: quoted fields may hold delimiters, quotes ("") and line breaks. */
function* splitRfc4180(text: string, delimiter: string, source: string): Generator<RawRecord> {
  const n = text.length;
  const d = delimiter.charCodeAt(0);
  let i = 0;
  let line = 1;
  while (i < n) {
    const recLine = line;
    const fields: string[] = [];
    // Blank line: skip.
    if (text.charCodeAt(i) === 10 || (text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10)) {
      i += text.charCodeAt(i) === 13 ? 2 : 1;
      line++;
      continue;
    }
    for (;;) {
      // One field starting at i.
      if (text.charCodeAt(i) === 34) {
        const quoteLine = line;
        let value = '';
        let j = i + 1;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) {
            throw new DataError('unterminated quoted field; fix: close the quote, or read with quoting "none" if quotes are plain text', { file: source, line: quoteLine });
          }
          value += text.slice(j, q);
          line += countNewlines(text, j, q);
          if (text.charCodeAt(q + 1) === 34) {
            value += '"';
            j = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        fields.push(value);
        const c = text.charCodeAt(i);
        if (!(i >= n || c === d || c === 10 || (c === 13 && text.charCodeAt(i + 1) === 10))) {
          throw new DataError('text after a closing quote; fix: quote the whole field and double inner quotes ("")', { file: source, line });
        }
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === d || c === 10 || (c === 13 && text.charCodeAt(j + 1) === 10)) break;
          j++;
        }
        fields.push(text.slice(i, j));
        i = j;
      }
      // Now at a delimiter, a line end or the end of text.
      if (i >= n) break;
      const c = text.charCodeAt(i);
      if (c === d) {
        i++;
        continue;
      }
      i += c === 13 ? 2 : 1;
      line++;
      break;
    }
    yield { fields, line: recLine };
  }
}

function countNewlines(text: string, from: number, to: number): number {
  let k = 0;
  for (let p = text.indexOf('\n', from); p >= 0 && p < to; p = text.indexOf('\n', p + 1)) k++;
  return k;
}
