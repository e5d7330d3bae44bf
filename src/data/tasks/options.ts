/** Options of `loadTask` and of the `spam` demo task (apart from both so that neither imports the other). */
import type { CarveOptions, SubsampleOptions } from '../split.js';
import type { SplitName } from './types.js';

export interface SpamOptions {
  /** Keep this many characters of subject + body (default 1000). */
  maxChars?: number;
  /** Share of the corpus in dev, by MD5 (default 0.2). */
  devFraction?: number;
  /** Directory of the package (default: resolved from node_modules). */
  packageDir?: string;
}

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
  /**
   * Explicit files per split (several = shards, concatenated), instead of looking under dataDir.
   * All .parquet for a built-in tab/JSONL task: read with its Hugging Face hub columns.
   */
  files?: Partial<Record<SplitName, string | string[]>>;
}
