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
import { DataError } from '../errors.js';
import { readTextFile } from './text.js';

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
  /**
   * Keep only some columns: given the column names, return the indices to keep, in order. Rows
   * then hold just those fields and `columns` their names (the field-count check still sees
   * whole rows). Keeps memory small on wide files (MNLI's train.tsv carries parse trees).
   */
  select?: (columns: string[]) => number[];
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

/**
 * Read a delimited file (UTF-8). Quote-unaware files are scanned line by line from the bytes, so
 * a file far larger than the longest JS string (e.g. MNLI train, ~400 MB) never becomes one.
 */
export function readDelimited(path: string, options: DelimitedOptions = {}): Table {
  const buf = readTextFile(path);
  const delimiter = checkDelimiter(options.delimiter ?? '\t', path);
  const quoting: Quoting = options.quoting ?? (delimiter === '\t' ? 'none' : 'rfc4180');
  if (quoting === 'rfc4180') return parseDelimited(buf.toString('utf8'), path, options);
  return buildTable(splitPlainBuffer(buf, delimiter), path, options, quoting);
}

function checkDelimiter(delimiter: string, source: string): string {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new DataError(
      `delimiter must be one character other than '"' or a line break, got ${JSON.stringify(delimiter)}; fix: use '\\t' or ','`,
      { file: source },
    );
  }
  return delimiter;
}

/** Parse delimited text; `source` names it in errors. */
export function parseDelimited(text: string, source: string, options: DelimitedOptions = {}): Table {
  const delimiter = checkDelimiter(options.delimiter ?? '\t', source);
  const quoting: Quoting = options.quoting ?? (delimiter === '\t' ? 'none' : 'rfc4180');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records = quoting === 'none' ? splitPlain(text, delimiter) : splitRfc4180(text, delimiter, source);
  return buildTable(records, source, options, quoting);
}

/** Header, field-count check, column selection and maxRows over raw records. */
function buildTable(records: Iterable<RawRecord>, source: string, options: DelimitedOptions, quoting: Quoting): Table {
  const header = options.header ?? true;
  const onRagged = options.onRagged ?? 'error';
  const maxRows = options.maxRows ?? Infinity;
  let width = -1;
  let keep: number[] | undefined;
  let columns: string[] | undefined;
  const rows: string[][] = [];
  const lines: number[] = [];
  const skipped: number[] = [];
  for (const rec of records) {
    if (columns === undefined) {
      const fields = rec.all();
      const all = header ? fields.map((c) => c.trim()) : fields.map((_, i) => String(i));
      width = all.length;
      if (options.select !== undefined) {
        keep = options.select(all);
        columns = keep.map((i) => all[i]);
      } else columns = all;
      if (header) continue;
    }
    if (rec.width !== width) {
      if (onRagged === 'skip') {
        skipped.push(rec.line);
        continue;
      }
      const what = header ? 'the header has' : 'the first row has';
      throw new DataError(
        `row has ${rec.width} fields but ${what} ${width}; fix: repair the row, or check the delimiter/quoting (${quoting === 'none' ? "quoting 'none': quotes are plain text" : "quoting 'rfc4180'"})`,
        { file: source, line: rec.line },
      );
    }
    if (rows.length >= maxRows) break;
    rows.push(keep === undefined ? rec.all() : keep.map((i) => rec.get(i)));
    lines.push(rec.line);
  }
  if (columns === undefined)
    throw new DataError('file is empty; fix: point at a file with data rows', { file: source });
  return { source, columns, rows, lines, skipped };
}

interface RawRecord {
  line: number;
  /** Number of fields. */
  width: number;
  /** Field i (0 <= i < width). */
  get(i: number): string;
  all(): string[];
}

function record(fields: string[], line: number): RawRecord {
  return { line, width: fields.length, get: (i) => fields[i], all: () => fields };
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
    if (stop > start) yield record(text.slice(start, stop).split(delimiter), line);
    start = end + 1;
    line++;
  }
}

/**
 * Quote-unaware split over UTF-8 bytes: one record per non-blank line, BOM dropped. Fields are
 * decoded one by one from the bytes only when asked for, so a kept field is a fresh string and
 * does not pin its whole line (with MNLI's parse trees) in memory, as a slice of it would.
 * An ASCII delimiter cannot occur inside a multi-byte UTF-8 sequence, so byte positions are exact.
 */
function* splitPlainBuffer(buf: Buffer, delimiter: string): Generator<RawRecord> {
  const d = delimiter.charCodeAt(0);
  if (d > 0x7f) {
    // Non-ASCII delimiter: decode whole lines.
    yield* splitPlain(buf.toString('utf8').replace(/^\uFEFF/, ''), delimiter);
    return;
  }
  let start = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  let line = 1;
  const n = buf.length;
  while (start < n) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = n;
    let stop = end;
    if (stop > start && buf[stop - 1] === 13) stop--; // CRLF
    if (stop > start) {
      const bounds = [start - 1];
      for (let p = buf.indexOf(d, start); p >= 0 && p < stop; p = buf.indexOf(d, p + 1)) bounds.push(p);
      bounds.push(stop);
      const get = (i: number): string => buf.toString('utf8', bounds[i] + 1, bounds[i + 1]);
      yield {
        line,
        width: bounds.length - 1,
        get,
        all: () => Array.from({ length: bounds.length - 1 }, (_, i) => get(i)),
      };
    }
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
            throw new DataError(
              'unterminated quoted field; fix: close the quote, or read with quoting "none" if quotes are plain text',
              { file: source, line: quoteLine },
            );
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
          throw new DataError('text after a closing quote; fix: quote the whole field and double inner quotes ("")', {
            file: source,
            line,
          });
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
    yield record(fields, recLine);
  }
}

function countNewlines(text: string, from: number, to: number): number {
  let k = 0;
  for (let p = text.indexOf('\n', from); p >= 0 && p < to; p = text.indexOf('\n', p + 1)) k++;
  return k;
}
