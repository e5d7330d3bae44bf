/** Public API of the data room: tasks, readers, splits, metrics and batching. */
export { DataError } from './errors.js';
export { readDelimited, parseDelimited, type DelimitedOptions, type Table, type Quoting } from './readers/delimited.js';
export { readJsonl, parseJsonl, type RecordTable, type JsonRecord, type JsonValue } from './readers/jsonl.js';
export { readParquet, parquetRowsToTable } from './readers/parquet.js';
export type {
  Example,
  TaskSpec,
  TaskInfo,
  TaskData,
  MetricName,
  FileFormat,
  ColumnRef,
  SplitName,
} from './tasks/types.js';
export { taskInfo } from './tasks/types.js';
export { BUILTIN_TASKS, SPAM_SPEC, getTaskSpec, taskNames } from './tasks/registry.js';
export { loadTask, locateFiles, type LoadTaskOptions, type LocatedFiles } from './tasks/load.js';
export { validateTaskSpec, loadTaskSpecFile } from './tasks/custom.js';
export { loadSpamTask, readSpamCorpus, isSpamDev, type SpamOptions, type SpamMessage } from './tasks/spam.js';
export {
  carveValidation,
  subsample,
  finishSplits,
  stratifiedSelect,
  resolveSize,
  DEFAULT_VALIDATION,
  type CarveOptions,
  type SubsampleOptions,
  type SizeSpec,
} from './split.js';
export {
  accuracy,
  f1Binary,
  macroF1,
  matthewsCorrelation,
  pearson,
  spearman,
  averageRanks,
  argmaxRows,
  labelsOf,
  computeMetrics,
  type MetricResult,
} from './metrics.js';
export {
  Batcher,
  tokenizeExamples,
  paddingEfficiency,
  scatterRows,
  type Batch,
  type BatchingOptions,
  type TokenizedSet,
} from './batching.js';
