/**
 * Presets: named sets of option values for the commands that run trials (`search`, `retrain`,
 * `baselines`, `transfer`). A preset sits between a command's defaults and what the user gave:
 * flag > environment > config file > preset > default, so every value stays overridable.
 *
 * `paper` is the protocol of the AutoPEFT reference implementation (cambridgeltl/autopeft); each
 * setting names the reference file and line it comes from (docs/paper-protocol.md is the table).
 */
import { UsageError } from '../core/errors.js';
import type { MetricName } from '../data/tasks/types.js';

export type PresetCommand = 'search' | 'retrain' | 'baselines' | 'transfer';
export const PRESET_COMMANDS: readonly PresetCommand[] = ['search', 'retrain', 'baselines', 'transfer'];

/** One setting of a preset: the option key (as the command's --config key), its value, where it comes from. */
export interface PresetSetting {
  key: string;
  value: unknown;
  /** The commands it applies to. */
  commands: readonly PresetCommand[];
  /** The reference file and line(s) the value is read from. */
  reference: string;
  /** What the setting means, in a few words (the docs table's "setting" column). */
  what: string;
}

export interface Preset {
  name: string;
  description: string;
  settings: readonly PresetSetting[];
}

const TRAINING: readonly PresetCommand[] = PRESET_COMMANDS;

/** `metric: task`: the preset's metric depends on the task (`paperMetric`), resolved once the task is known. */
export const TASK_METRIC = 'task';

/** `value` with `TASK_METRIC` resolved for `task` (`paperMetric`); any other value as it is. */
export function resolveMetric<T extends string | undefined>(value: T, task: string): T | MetricName {
  return value === TASK_METRIC ? paperMetric(task) : value;
}

/**
 * The reference's task metric: accuracy where the GLUE metric reports one (MRPC and QQP included,
 * not acc_and_f1), Matthews correlation for CoLA, Spearman for STS-B (adapterhub/bo/base_function.py
 * 262-274 picks eval_accuracy first, then eval_matthews_correlation, then eval_spearmanr).
 */
export function paperMetric(task: string): MetricName {
  const t = task.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (t === 'cola') return 'mcc';
  if (t === 'stsb') return 'spearman';
  return 'accuracy';
}

export const PAPER_PRESET: Preset = {
  name: 'paper',
  description: 'the AutoPEFT reference implementation protocol (cambridgeltl/autopeft)',
  settings: [
    {
      key: 'lr',
      value: 1e-4,
      commands: TRAINING,
      what: 'peak learning rate',
      reference: 'adapterhub/bo/base_function.py:124 (--learning_rate=1e-4)',
    },
    {
      key: 'batchSize',
      value: 32,
      commands: TRAINING,
      what: 'examples per step',
      reference: 'adapterhub/bo/base_function.py:123 (--per_device_train_batch_size=32)',
    },
    {
      key: 'maxLength',
      value: 128,
      commands: TRAINING,
      what: 'longest input in tokens',
      reference: 'adapterhub/bo/base_function.py:123 (--max_seq_length=128)',
    },
    {
      key: 'epochs',
      value: 20,
      commands: TRAINING,
      what: 'epochs per trial (search and final runs alike)',
      reference: 'settings.py:17 (num_epochs 20); adapterhub/bo/base_function.py:96-98 (final test: 20)',
    },
    {
      key: 'patience',
      value: 10,
      commands: TRAINING,
      what: 'early stopping patience in epochs; the best epoch is kept',
      reference:
        'settings.py:18 (patience 10); adapterhub/nas_search.py:807 (load_best_model_at_end), 823-824 (EarlyStoppingCallback)',
    },
    {
      key: 'warmupRatio',
      value: 0,
      commands: TRAINING,
      what: 'warm-up share of the steps',
      reference:
        'adapterhub/bo/base_function.py:119-126 passes no --warmup_*: transformers TrainingArguments default 0',
    },
    {
      key: 'weightDecay',
      value: 0,
      commands: TRAINING,
      what: 'AdamW weight decay',
      reference:
        'adapterhub/bo/base_function.py:119-126 passes no --weight_decay: transformers TrainingArguments default 0.0',
    },
    {
      key: 'metric',
      value: TASK_METRIC,
      commands: TRAINING,
      what: 'search / model-selection metric: accuracy (MRPC, QQP and the rest), MCC (CoLA), Spearman (STS-B) — `paperMetric`',
      reference:
        'adapterhub/bo/base_function.py:262-274; adapterhub/nas_search.py:808-813 (metric_for_best_model); glue_metrics.py:138-145',
    },
    {
      key: 'saForm',
      value: 'pfeiffer',
      commands: TRAINING,
      what: 'serial adapter form: LN(h + A_sa(LN(h + x)) + 4·A_pa(x) + x), N(0, 0.02) init',
      reference:
        'adapterhub/nas_search.py:555-562 (AutoPEFTConfig); adapter-transformers-adapters3.1.0/src/transformers/adapters/configuration.py:277-292, modeling_sappa.py:141-148 (init), 162-292 (forward), layer.py:556-596',
    },
    {
      key: 'head',
      value: 'fresh',
      commands: TRAINING,
      what: 'classification head: fresh dense + tanh + linear on [CLS], N(0, 0.02), the pooler unused',
      reference:
        'adapterhub/nas_search.py:409-414 (add_classification_head); adapter-transformers-adapters3.1.0/src/transformers/adapters/heads/base.py:65-89, 99-128 (layers=2, tanh, use_pooler=False)',
    },
    {
      key: 'paramDenominator',
      value: 'with-pooler',
      commands: TRAINING,
      what: 'param-% denominator: the encoder with its pooler (BERT-base 109,482,240)',
      reference:
        'adapterhub/nas_search.py:405 (model.num_parameters() before the head); adapterhub/bo/base_function.py:255',
    },
    {
      key: 'nInit',
      value: 100,
      commands: ['search'],
      what: 'random configurations before BO',
      reference: 'run.sh:11 (-ni 100); run_one_replicate.py:148-152',
    },
    {
      key: 'batch',
      value: 4,
      commands: ['search'],
      what: 'configurations per BO batch',
      reference: 'run_one_replicate.py:37 (--batch_size 4)',
    },
    {
      key: 'trials',
      value: 200,
      commands: ['search'],
      what: 'trials in total: 100 random + 25 batches of 4',
      reference: 'run.sh:9 (-mi 200); run_one_replicate.py:103, 172 (iterations = 200 // 4, the first 100 // 4 random)',
    },
    {
      key: 'refPoint',
      // [metric, paramPct], the objectives' order (`--ref-point 0.7,26`); the reference writes [26., 0.7].
      value: [0.7, 26],
      commands: ['search'],
      what: "hypervolume reference point (metric 0.7, 26% params); CoLA's MCC stays below 0.7, so its hypervolume is 0",
      reference: 'settings.py:24 (ref_point [26., 0.7], every task); run_one_replicate.py:161-162',
    },
    {
      key: 'seeds',
      value: [40, 41, 42, 43, 44],
      commands: ['retrain', 'transfer'],
      what: 'final protocol: every front configuration re-trained with seeds 40-44 on the full training set',
      reference: 'run_one_replicate.py:306-336 (range(40, 45), final_test=True)',
    },
  ],
};

export const PRESETS: ReadonlyMap<string, Preset> = new Map([[PAPER_PRESET.name, PAPER_PRESET]]);
export const PRESET_NAMES: readonly string[] = [...PRESETS.keys()];

export function getPreset(name: string, flag = '--preset'): Preset {
  const p = PRESETS.get(name);
  if (!p) throw new UsageError(`${flag}: unknown preset "${name}" (known: ${PRESET_NAMES.join(', ')})`);
  return p;
}

/** The preset's values for `command`, by option key (`metric: 'task'` resolved with `paperMetric`). */
export function presetValues(preset: Preset, command: PresetCommand, task?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of preset.settings) {
    if (!s.commands.includes(command)) continue;
    out[s.key] = s.key === 'metric' && task !== undefined ? resolveMetric(s.value as string, task) : s.value;
  }
  return out;
}

/**
 * `options` with the preset's values for `command` filled in, except the keys the user set
 * (`given`: flags, environment, config file): those win. Returns the merged options and the keys the
 * preset set, so a command can say what it applied.
 */
export function applyPreset<T extends Record<string, unknown>>(
  preset: Preset,
  command: PresetCommand,
  options: T,
  given: ReadonlySet<string>,
  task?: string,
): { options: T & Record<string, unknown>; applied: string[] } {
  const values = presetValues(preset, command, task);
  const merged: Record<string, unknown> = { ...options };
  const applied: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (given.has(k)) continue;
    merged[k] = v;
    applied.push(k);
  }
  return { options: merged as T & Record<string, unknown>, applied };
}
