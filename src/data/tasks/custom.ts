/**
 * Custom tasks from a JSON spec, e.g.
 * {"name": "reviews", "format": "csv", "files": {"train": "train.csv", "dev": "dev.csv"},
 *  "textColumns": ["review"], "labelColumn": "stars", "labels": ["1","2","3","4","5"]}
 * or with "regression": true instead of "labels". Every field is checked; a bad one is a
 * DataError naming the file and field.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataError } from '../errors.js';
import {
  FILE_FORMATS,
  METRIC_NAMES,
  type ColumnRef,
  type FileFormat,
  type MetricName,
  type TaskSpec,
} from './types.js';

const CLASS_METRICS: readonly MetricName[] = ['accuracy', 'f1', 'macro_f1', 'mcc', 'acc_and_f1'];
const KNOWN_KEYS = new Set([
  'name',
  'description',
  'format',
  'files',
  'dirs',
  'header',
  'delimiter',
  'quoting',
  'skipRaggedRows',
  'textColumns',
  'labelColumn',
  'labels',
  'labelNames',
  'regression',
  'metrics',
  'mainMetric',
  'positiveLabel',
]);

/** Read and validate a JSON task spec; `dir` is the spec file's directory (default data dir). */
export function loadTaskSpecFile(path: string): { spec: TaskSpec; dir: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(
      `cannot read task spec (${(e as NodeJS.ErrnoException).code ?? String(e)}); fix: check the path`,
      { file: path },
    );
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new DataError(`task spec is not valid JSON (${(e as Error).message}); fix: correct the JSON`, { file: path });
  }
  return { spec: validateTaskSpec(obj, path), dir: dirname(resolve(path)) };
}

/** Check a parsed spec object and fill defaults (header, metrics, mainMetric). */
export function validateTaskSpec(obj: unknown, source = 'task spec'): TaskSpec {
  const fail = (field: string, msg: string, fix: string): never => {
    throw new DataError(`field "${field}" ${msg}; fix: ${fix}`, { file: source });
  };
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    fail(
      '(root)',
      'must be a JSON object',
      'write {"name": ..., "format": ..., "files": {...}, "textColumns": [...], "labelColumn": ..., "labels": [...]}',
    );
  const o = obj as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!KNOWN_KEYS.has(k))
      fail(k, 'is not a task spec field', `remove it, or use one of ${[...KNOWN_KEYS].join(', ')}`);

  if (typeof o.name !== 'string' || o.name.trim() === '')
    fail('name', 'must be a non-empty string', 'set "name": "my-task"');
  if (typeof o.format !== 'string' || !FILE_FORMATS.includes(o.format as FileFormat))
    fail('format', `must be one of ${FILE_FORMATS.join(', ')}`, 'set "format": "csv" (or tsv, jsonl, parquet)');
  const format = o.format as FileFormat;

  const files = o.files;
  if (files === null || typeof files !== 'object' || Array.isArray(files))
    fail('files', 'must be an object of split -> file name', 'set "files": {"train": "train.csv", "dev": "dev.csv"}');
  const f = files as Record<string, unknown>;
  for (const [k, v] of Object.entries(f)) {
    if (!['train', 'validation', 'dev'].includes(k))
      fail(`files.${k}`, 'is not a split', 'use train, validation and/or dev');
    if (typeof v !== 'string' || v === '') fail(`files.${k}`, 'must be a file name', `set "${k}": "${k}.${format}"`);
  }
  if (f.train === undefined && f.dev === undefined)
    fail('files', 'needs a train or a dev file', 'add "train": "train.csv"');

  const isRef = (v: unknown): v is ColumnRef =>
    (typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isInteger(v) && v >= 0);
  const tc = o.textColumns;
  if (!Array.isArray(tc) || tc.length < 1 || tc.length > 2 || !tc.every(isRef))
    fail(
      'textColumns',
      'must be an array of 1 or 2 column names (or 0-based indices)',
      'set "textColumns": ["sentence"] or ["sentence1", "sentence2"]',
    );
  if (!isRef(o.labelColumn))
    fail('labelColumn', 'must be a column name (or 0-based index)', 'set "labelColumn": "label"');

  const regression = o.regression;
  if (regression !== undefined && typeof regression !== 'boolean')
    fail('regression', 'must be true or false', 'set "regression": true for numeric targets');
  const labels = o.labels;
  if (regression === true) {
    if (labels !== undefined) fail('labels', 'must be absent for a regression task', 'remove "labels" or "regression"');
  } else {
    if (!Array.isArray(labels) || labels.length < 2)
      fail(
        'labels',
        'must list at least 2 label values in class order',
        'set "labels": ["negative", "positive"], or "regression": true',
      );
    const ls = (labels as unknown[]).map((l) =>
      typeof l === 'string'
        ? l.trim()
        : typeof l === 'number' || typeof l === 'boolean'
          ? String(l)
          : fail('labels', 'must hold strings, numbers or booleans', 'write e.g. ["0", "1"]'),
    );
    if (new Set(ls).size !== ls.length) fail('labels', 'has duplicates', 'list each label value once');
  }
  const numLabels = regression === true ? 1 : (labels as unknown[]).length;
  if (
    o.labelNames !== undefined &&
    (!Array.isArray(o.labelNames) ||
      o.labelNames.length !== numLabels ||
      !o.labelNames.every((x) => typeof x === 'string'))
  ) {
    fail('labelNames', `must be ${numLabels} strings, one per label`, 'match the length of "labels"');
  }
  if (o.header !== undefined && typeof o.header !== 'boolean')
    fail('header', 'must be true or false', 'set "header": false for files without a header row');
  if (o.delimiter !== undefined && (typeof o.delimiter !== 'string' || o.delimiter.length !== 1))
    fail('delimiter', 'must be one character', 'set "delimiter": "\\t" or ","');
  if (o.quoting !== undefined && o.quoting !== 'none' && o.quoting !== 'rfc4180')
    fail('quoting', 'must be "none" or "rfc4180"', 'use "rfc4180" for quoted CSV, "none" for GLUE-style TSV');
  if (o.skipRaggedRows !== undefined && typeof o.skipRaggedRows !== 'boolean')
    fail('skipRaggedRows', 'must be true or false', 'remove it or set a boolean');
  if (o.dirs !== undefined && (!Array.isArray(o.dirs) || !o.dirs.every((d) => typeof d === 'string')))
    fail('dirs', 'must be an array of folder names', 'remove it or set e.g. ["my-task"]');
  if (o.description !== undefined && typeof o.description !== 'string')
    fail('description', 'must be a string', 'remove it or set a string');
  if (format === 'jsonl' || format === 'parquet') {
    for (const c of [...(tc as ColumnRef[]), o.labelColumn as ColumnRef]) {
      if (typeof c === 'number')
        fail(
          typeof o.labelColumn === 'number' ? 'labelColumn' : 'textColumns',
          `uses a column index, but ${format} fields have names`,
          'use field names',
        );
    }
  }

  const defaultMetrics: MetricName[] =
    regression === true ? ['pearson', 'spearman'] : numLabels === 2 ? ['accuracy', 'f1'] : ['accuracy', 'macro_f1'];
  let metrics = defaultMetrics;
  if (o.metrics !== undefined) {
    if (
      !Array.isArray(o.metrics) ||
      o.metrics.length === 0 ||
      !o.metrics.every((m) => METRIC_NAMES.includes(m as MetricName))
    )
      fail('metrics', `must be a non-empty array of ${METRIC_NAMES.join(', ')}`, 'fix the names or remove the field');
    metrics = o.metrics as MetricName[];
  }
  for (const m of metrics) {
    const isClass = CLASS_METRICS.includes(m);
    if (regression === true && isClass)
      fail('metrics', `has "${m}", a classification metric, on a regression task`, 'use pearson / spearman');
    if (regression !== true && !isClass)
      fail(
        'metrics',
        `has "${m}", a regression metric, on a classification task`,
        'use accuracy, f1, macro_f1, mcc or acc_and_f1',
      );
    if (numLabels > 2 && (m === 'f1' || m === 'acc_and_f1') && o.positiveLabel === undefined)
      fail('metrics', `has binary "${m}" on a ${numLabels}-class task`, 'use macro_f1, or set positiveLabel');
  }
  let mainMetric = metrics[0];
  if (o.mainMetric !== undefined) {
    if (!metrics.includes(o.mainMetric as MetricName))
      fail(
        'mainMetric',
        `must be one of the task's metrics (${metrics.join(', ')})`,
        'add it to "metrics" or pick one of them',
      );
    mainMetric = o.mainMetric as MetricName;
  }
  if (
    o.positiveLabel !== undefined &&
    (!Number.isInteger(o.positiveLabel) || (o.positiveLabel as number) < 0 || (o.positiveLabel as number) >= numLabels)
  ) {
    fail(
      'positiveLabel',
      `must be a class index in 0..${numLabels - 1}`,
      'set the index of the positive label in "labels"',
    );
  }

  const spec: TaskSpec = {
    name: o.name as string,
    format,
    files: f as TaskSpec['files'],
    textColumns: tc as TaskSpec['textColumns'],
    labelColumn: o.labelColumn as ColumnRef,
    metrics,
    mainMetric,
  };
  if (regression === true) spec.regression = true;
  else spec.labels = (labels as unknown[]).map((l) => (typeof l === 'string' ? l.trim() : String(l)));
  if (o.labelNames !== undefined) spec.labelNames = o.labelNames as string[];
  if (o.description !== undefined) spec.description = o.description as string;
  if (o.dirs !== undefined) spec.dirs = o.dirs as string[];
  if (o.header !== undefined) spec.header = o.header as boolean;
  if (o.delimiter !== undefined) spec.delimiter = o.delimiter as string;
  if (o.quoting !== undefined) spec.quoting = o.quoting as 'none' | 'rfc4180';
  if (o.skipRaggedRows !== undefined) spec.skipRaggedRows = o.skipRaggedRows as boolean;
  if (o.positiveLabel !== undefined) spec.positiveLabel = o.positiveLabel as number;
  return spec;
}
