import { PAIR_ENCODINGS, type PairEncoding } from '../../models/types.js';
import type { Command } from 'commander';
import { basename } from 'node:path';
import type { CliContext } from '../context.js';
import { createProgress, fmtDuration, fmtNum } from '../progress.js';
import { flagParser, protocolRules, rules, safeName, type OptionRule } from '../options.js';
import { commandOutput } from '../json.js';
import { UsageError } from '../../core/errors.js';
import { openStorage, storageFile } from '../../storage/index.js';
import { runSearch, type SearchEvent } from '../../pipeline/search.js';
import { SAMPLER_NAMES, type SamplerName } from '../../search/samplers/index.js';
import { PRUNER_NAMES, type PrunerName } from '../../search/pruners/index.js';
import { SEARCH_DEFAULTS } from '../../search/defaults.js';
import { getBackbone, getTask, type TrialSpec } from '../../train/trial.js';
import { hyperOf } from './train.js';
import { addPresetFlag, presetUseOf, warmupRatioRule, weightDecayRule } from '../preset.js';
import { resolveMetric } from '../../pipeline/presets.js';
import type { ClassifierHead } from '../../models/types.js';
import type { ParamDenominator } from '../../peft/params.js';
import type { SerialAdapterForm } from '../../peft/config.js';

/** `--storage` of every command unless `$AUTOPEFT_STORAGE` (e.g. a postgres:// URL) or a --config file names another. */
export const DEFAULT_STORAGE = 'autopeft.sqlite';

interface SearchFlags {
  model: string;
  task?: string;
  data?: string;
  trials: number;
  nInit: number;
  batch: number;
  sampler: string;
  storage: string;
  study?: string;
  workers: number;
  threads?: number;
  trialCmd?: string;
  trialTimeout?: number;
  seed: number;
  lora?: boolean;
  pairEncoding?: PairEncoding;
  epochs: number;
  lr: number;
  batchSize: number;
  maxLength: number;
  maxSteps?: number;
  trainLimit?: { fraction?: number; count?: number };
  patience?: number;
  warmupRatio?: number;
  weightDecay?: number;
  preset?: string;
  pruner?: PrunerName;
  ashaEta?: number;
  ashaMinTrials?: number;
  noise?: 'learned' | 'binomial';
  metric?: string;
  head?: ClassifierHead;
  paramDenominator?: ParamDenominator;
  refPoint?: [number, number];
  saForm?: SerialAdapterForm;
  frozenDropout?: '0';
  config?: string;
  quiet?: boolean;
}

interface SearchOption {
  /** camelCase key: the commander attribute and the --config key. */
  key: keyof SearchFlags;
  flag: string;
  /** Argument placeholder; none for a switch. */
  arg?: string;
  help: string;
  rule: OptionRule;
  default?: unknown;
}

/**
 * Every search option once: the flag, its --config key and the one rule both are checked by, so a
 * value the flag rejects is rejected from a file with the same words (naming the file and key).
 */
const SEARCH_OPTIONS: readonly SearchOption[] = [
  { key: 'task', flag: '--task', arg: 'name|spec.json', help: 'task (see `autopeft tasks`)', rule: rules.string() },
  {
    key: 'model',
    flag: '--model',
    arg: 'name|dir|hub id',
    help: 'backbone: use-lite, a checkpoint folder or a hub id',
    rule: rules.string(),
    default: 'use-lite',
  },
  { key: 'data', flag: '--data', arg: 'dir', help: 'folder holding the task files', rule: rules.string() },
  {
    key: 'trials',
    flag: '--trials',
    arg: 'n',
    help: 'trials to run in total (a resumed study counts the ones it has)',
    rule: rules.int(1),
    default: 40,
  },
  {
    key: 'nInit',
    flag: '--n-init',
    arg: 'k',
    help: 'random configurations before Bayesian optimisation starts',
    rule: rules.int(1),
    default: 10,
  },
  {
    key: 'batch',
    flag: '--batch',
    arg: 'q',
    help: 'configurations proposed per sampler call',
    rule: rules.int(1),
    default: 4,
  },
  {
    key: 'sampler',
    flag: '--sampler',
    arg: 'bo|nsga2|random',
    help: 'search strategy',
    rule: rules.oneOf(SAMPLER_NAMES),
    default: 'bo',
  },
  { key: 'lora', flag: '--lora', help: 'add a LoRA-rank dimension to the search space', rule: rules.boolean() },
  {
    key: 'pairEncoding',
    flag: '--pair-encoding',
    arg: 'cross|siamese',
    help: "sentence pairs as one sequence or each text on its own (default: the model's; USE-lite siamese); one per study",
    rule: rules.oneOf(PAIR_ENCODINGS),
  },
  {
    key: 'storage',
    flag: '--storage',
    arg: 'file.sqlite|postgres://...',
    help: 'SQLite file or PostgreSQL URL holding the studies (default $AUTOPEFT_STORAGE or autopeft.sqlite)',
    rule: rules.string(),
    default: DEFAULT_STORAGE,
  },
  {
    key: 'study',
    flag: '--study',
    arg: 'name',
    help: 'study name: letters, digits, . _ - (default: <task>-<model>-<sampler>); rerunning resumes it',
    rule: rules.name(),
  },
  {
    key: 'workers',
    flag: '--workers',
    arg: 'n',
    help: 'trials trained at once, each in its own process (0: only create the study, for `autopeft worker`s)',
    rule: rules.int(0),
    default: 1,
  },
  {
    key: 'threads',
    flag: '--threads',
    arg: 'n',
    help: 'threads per trial (default: cores / workers)',
    rule: rules.int(1),
  },
  {
    key: 'seed',
    flag: '--seed',
    arg: 'n',
    help: 'seed of the sampler and of every trial',
    rule: rules.int(0),
    default: 0,
  },
  { key: 'epochs', flag: '--epochs', arg: 'n', help: 'low-fidelity epochs per trial', rule: rules.int(1), default: 1 },
  { key: 'lr', flag: '--lr', arg: 'x', help: 'peak learning rate', rule: rules.positive(), default: 1e-3 },
  { key: 'batchSize', flag: '--batch-size', arg: 'n', help: 'examples per step', rule: rules.int(1), default: 32 },
  {
    key: 'maxLength',
    flag: '--max-length',
    arg: 'n',
    help: 'longest input in tokens',
    rule: rules.int(4),
    default: 64,
  },
  {
    key: 'maxSteps',
    flag: '--max-steps',
    arg: 'n',
    help: 'low fidelity: at most n steps per trial',
    rule: rules.int(1),
  },
  {
    key: 'trainLimit',
    flag: '--train-limit',
    arg: 'n|fraction',
    help: 'low fidelity: train each trial on a seeded subset',
    rule: rules.size(),
  },
  {
    key: 'trialCmd',
    flag: '--trial-cmd',
    arg: 'command',
    help: 'run each trial as this shell command: config JSON on stdin, {"metric": ...} JSON line on stdout',
    rule: rules.string(),
  },
  {
    key: 'trialTimeout',
    flag: '--trial-timeout',
    arg: 'seconds',
    help: 'time limit of one --trial-cmd run (default 6 h)',
    rule: rules.positive(),
  },
  { key: 'patience', flag: '--patience', arg: 'n', help: 'early stopping patience in epochs', rule: rules.int(1) },
  {
    key: 'warmupRatio',
    flag: '--warmup-ratio',
    arg: 'x',
    help: 'share of the steps spent warming up (default 0.06)',
    rule: warmupRatioRule,
  },
  {
    key: 'weightDecay',
    flag: '--weight-decay',
    arg: 'x',
    help: 'AdamW weight decay (default 0.01)',
    rule: weightDecayRule,
  },
  // The protocol (docs/paper-protocol.md): recorded in the study; a resumed study needs the same values.
  {
    key: 'metric',
    flag: '--metric',
    arg: 'name',
    help: "search objective and model-selection metric, one of the task's (accuracy, f1, mcc, spearman, ...; default its main metric)",
    rule: protocolRules.metric,
  },
  {
    key: 'head',
    flag: '--head',
    arg: 'pooler|fresh',
    help: "BERT/RoBERTa classification head: the pretrained pooler (default) or the reference's fresh dense + tanh + linear",
    rule: protocolRules.head,
  },
  {
    key: 'paramDenominator',
    flag: '--param-denominator',
    arg: 'encoder|with-pooler',
    help: 'param % over the encoder (default) or the encoder + pooler (the reference: 109,482,240 for BERT-base)',
    rule: protocolRules.paramDenominator,
  },
  {
    key: 'frozenDropout',
    flag: '--frozen-dropout',
    arg: '0',
    help: 'no dropout in the frozen layers below the lowest adapted layer: BERT/RoBERTa trials then start from shared cached rows (docs/training.md)',
    rule: rules.oneOf(['0'] as const),
  },
  {
    key: 'saForm',
    flag: '--sa-form',
    arg: 'houlsby|pfeiffer',
    help: "every trial's serial adapter form (default houlsby; pfeiffer: the reference's, docs/peft.md)",
    rule: protocolRules.saForm,
  },
  {
    key: 'refPoint',
    flag: '--ref-point',
    arg: 'METRIC,PCT',
    help: 'fixed hypervolume reference point for BO and the report, e.g. 0.7,26 (default: inferred from the trials)',
    rule: protocolRules.refPoint,
  },
  // No commander defaults below: unset means the resumed study's stored setting, else SEARCH_DEFAULTS.
  {
    key: 'pruner',
    flag: '--pruner',
    arg: PRUNER_NAMES.join('|'),
    help: `stop unpromising trials at learning-curve rungs (asha: MO-ASHA; default ${SEARCH_DEFAULTS.pruner}, or the resumed study's)`,
    rule: rules.oneOf(PRUNER_NAMES),
  },
  {
    key: 'ashaEta',
    flag: '--asha-eta',
    arg: 'x',
    help: `ASHA: the best 1/x of the trials at a rung go on (> 1; default ${SEARCH_DEFAULTS.ashaEta})`,
    rule: rules.positive(),
  },
  {
    key: 'ashaMinTrials',
    flag: '--asha-min-trials',
    arg: 'n',
    help: 'ASHA: trials that must reach a rung before any is pruned there (default eta + 1)',
    rule: rules.int(1),
  },
  {
    key: 'noise',
    flag: '--noise',
    arg: 'learned|binomial',
    help: `BO's observation noise: one learned variance, or plus each accuracy's binomial p(1-p)/n (default ${SEARCH_DEFAULTS.noise})`,
    rule: rules.oneOf(['learned', 'binomial'] as const),
  },
];

/** `<task>-<model>-<sampler>`, with any character outside the safe set replaced by `_`. */
export function defaultStudyName(task: string, model: string, sampler: string): string {
  return safeName(`${basename(task).replace(/\.json$/, '')}-${basename(model)}-${sampler}`);
}

/** Loads the task and the backbone once (the trials reuse both in-process) and checks the splits. */
async function checkInputs(task: string, dataDir: string | undefined, model: string): Promise<void> {
  const data = await getTask(task, dataDir, 0);
  const train = data.files.train ?? task;
  if (data.train.length === 0)
    throw new UsageError(`${train}: the training split has no rows (only a header?); add training examples`);
  if ((data.validation ?? []).length === 0)
    throw new UsageError(
      `${train}: too few training rows (${data.train.length}) to carve a validation split from; add examples or a validation file`,
    );
  if (data.dev !== undefined && data.dev.length === 0 && data.files.dev !== undefined)
    throw new UsageError(`${data.files.dev}: the dev split has no rows (only a header?); add examples or remove it`);
  await getBackbone(model);
}

/** `autopeft search`: the AutoPEFT multi-objective search. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('search')
    .description('search PEFT configurations for the Pareto front of (validation score, % tunable parameters)');
  for (const o of SEARCH_OPTIONS) {
    if (o.arg === undefined) cmd.option(o.flag, o.help);
    else if (o.default === undefined) cmd.option(`${o.flag} <${o.arg}>`, o.help, flagParser(o.flag, o.rule));
    else cmd.option(`${o.flag} <${o.arg}>`, o.help, flagParser(o.flag, o.rule), o.default);
  }
  addPresetFlag(cmd, 'search', ctx.stderr, 'task');
  cmd
    .option('--quiet', 'no progress bar, one line per trial')
    .option(
      '--json',
      'stdout: one JSON document {"study","storage","complete","pruned","failed","interrupted"}; human text to stderr',
    )
    .action(async (flags: SearchFlags & { json?: boolean }) => {
      // --config and AUTOPEFT_* values are applied to the flags before this runs (../config-file.ts).
      if (!flags.task) throw new UsageError('--task is required (or "task" in --config, or AUTOPEFT_TASK)');
      const sampler = flags.sampler as SamplerName;
      const hyper = hyperOf({ ...flags, maxSteps: undefined });
      const fidelity: NonNullable<TrialSpec['fidelity']> = {};
      if (flags.maxSteps !== undefined) fidelity.maxSteps = flags.maxSteps;
      if (flags.trainLimit?.count !== undefined) fidelity.trainCount = flags.trainLimit.count;
      else if (flags.trainLimit?.fraction !== undefined) fidelity.trainFraction = flags.trainLimit.fraction;
      const study = flags.study ?? defaultStudyName(flags.task, flags.model, sampler);
      // A user error every trial would hit (missing folder, bad or too small data, unknown model) stops
      // here, once, before the study exists: exit 2, nothing stored, no failed trial counted.
      // An external trial command reads its own data: only the model (for the param %) is ours to check.
      if (flags.trialCmd === undefined) await checkInputs(flags.task, flags.data, flags.model);
      else await getBackbone(flags.model);
      const storage = openStorage(flags.storage);
      const bar = createProgress({
        label: 'search',
        total: flags.trials,
        quiet: flags.quiet === true,
        stream: ctx.stderr as NodeJS.WriteStream,
        plainEverySec: 30,
      });
      const controller = new AbortController();
      let sigints = 0;
      // SIGTERM (kill, a scheduler, systemd) stops the search the way Ctrl-C does; exit 143 instead of 130.
      let stopSignal = 'SIGINT' as NodeJS.Signals;
      const onSigint = (sig: NodeJS.Signals) => {
        sigints++;
        stopSignal = sig;
        if (sigints > 1) process.exit(sig === 'SIGTERM' ? 143 : 130);
        bar.log('stopping: running trials are re-queued for the next run (Ctrl-C again to quit at once)');
        controller.abort();
      };
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigint);
      const status = { complete: 0, failed: 0, running: 0, best: NaN, hv: NaN, step: '' };
      const fields = () => ({
        ...(status.running > 0 ? { running: status.running } : {}),
        ...(status.failed > 0 ? { failed: status.failed } : {}),
        ...(Number.isFinite(status.best) ? { best: status.best } : {}),
        ...(Number.isFinite(status.hv) ? { hv: status.hv } : {}),
        ...(status.step ? { trial: status.step } : {}),
      });
      const onEvent = (e: SearchEvent) => {
        switch (e.kind) {
          case 'start':
            status.complete = e.complete;
            status.failed = e.failed;
            bar.log(
              e.resumed
                ? `resuming study "${study}" in ${flags.storage}: ${e.complete} complete, ${e.failed} failed${e.requeued ? `, ${e.requeued} interrupted trial(s) re-queued` : ''}; target ${e.total}`
                : `new study "${study}" in ${storageFile(flags.storage) === undefined ? storage.location : flags.storage}: ${sampler}, ${e.total} trials, ${flags.workers} worker(s)${flags.workers === 0 ? ' here: start `autopeft worker` processes to run it' : ''}`,
            );
            bar.update(e.complete + e.failed, fields());
            break;
          case 'trial-start':
            status.running++;
            bar.update(status.complete + status.failed, fields());
            break;
          case 'trial-progress':
            if (e.event.kind === 'step') status.step = `#${e.number} ${e.event.step}/${e.event.totalSteps}`;
            bar.update(status.complete + status.failed, fields());
            break;
          case 'trial-done': {
            const r = e.result;
            Object.assign(status, {
              complete: e.complete,
              failed: e.failed,
              running: e.running,
              best: e.bestMetric,
              hv: e.hypervolume,
              step: '',
            });
            bar.log(
              `trial ${String(e.number).padStart(3)}  ${r.metricName} ${fmtNum(r.metric)}  params ${fmtNum(r.paramPct)}%  ${r.description}  (${fmtDuration(r.trainSeconds)})`,
            );
            bar.update(e.complete + e.failed, fields());
            break;
          }
          case 'trial-pruned':
            Object.assign(status, { complete: e.complete, failed: e.failed, running: e.running, step: '' });
            bar.log(
              `trial ${String(e.number).padStart(3)}  pruned at ${e.step} examples: ${e.result.metricName} ${fmtNum(e.result.metric)}  params ${fmtNum(e.result.paramPct)}%  ${e.result.description}  (${fmtDuration(e.result.trainSeconds)})`,
            );
            bar.update(e.complete + e.failed, fields());
            break;
          case 'trial-log':
            bar.log(`trial ${String(e.number).padStart(3)}  | ${e.line}`);
            break;
          case 'external-done':
            Object.assign(status, {
              complete: e.complete,
              failed: e.failed,
              running: e.running,
              best: e.bestMetric,
              hv: e.hypervolume,
              step: '',
            });
            bar.log(
              `trial ${String(e.number).padStart(3)}  metric ${fmtNum(e.metric)}  params ${fmtNum(e.paramPct)}%  (${fmtDuration(e.seconds)})`,
            );
            bar.update(e.complete + e.failed, fields());
            break;
          case 'trial-failed':
            Object.assign(status, { complete: e.complete, failed: e.failed, running: e.running, step: '' });
            bar.log(`trial ${String(e.number).padStart(3)}  FAILED: ${e.reason}`);
            bar.update(e.complete + e.failed, fields());
            break;
          case 'stopped':
            break;
        }
      };
      try {
        const out = await runSearch({
          storage,
          study,
          model: flags.model,
          task: flags.task,
          ...(flags.data !== undefined ? { dataDir: flags.data } : {}),
          trials: flags.trials,
          nInit: flags.nInit,
          batch: flags.batch,
          sampler,
          seed: flags.seed,
          lora: flags.lora === true,
          ...(flags.pairEncoding !== undefined ? { pairEncoding: flags.pairEncoding } : {}),
          hyper,
          ...(Object.keys(fidelity).length > 0 ? { fidelity } : {}),
          workers: flags.workers,
          ...(flags.threads !== undefined ? { threadsPerWorker: flags.threads } : {}),
          ...(flags.trialCmd !== undefined ? { trialCmd: flags.trialCmd } : {}),
          ...(flags.trialTimeout !== undefined ? { trialTimeoutMs: flags.trialTimeout * 1000 } : {}),
          ...(flags.pruner !== undefined ? { pruner: flags.pruner } : {}),
          ...(flags.ashaEta !== undefined ? { ashaEta: flags.ashaEta } : {}),
          ...(flags.ashaMinTrials !== undefined ? { ashaMinTrials: flags.ashaMinTrials } : {}),
          ...(flags.noise !== undefined ? { noise: flags.noise } : {}),
          ...(flags.metric !== undefined ? { metric: resolveMetric(flags.metric, flags.task) } : {}),
          ...(flags.head !== undefined ? { head: flags.head } : {}),
          ...(flags.paramDenominator !== undefined ? { paramDenominator: flags.paramDenominator } : {}),
          ...(flags.refPoint !== undefined ? { refPoint: flags.refPoint } : {}),
          ...(flags.saForm !== undefined ? { saForm: flags.saForm } : {}),
          ...(flags.frozenDropout !== undefined ? { frozenDropout: Number(flags.frozenDropout) } : {}),
          ...(presetUseOf(cmd) ? { preset: { name: presetUseOf(cmd)!.name, applied: presetUseOf(cmd)!.applied } } : {}),
          onEvent,
          signal: controller.signal,
        });
        bar.stop();
        const { human, json } = commandOutput(ctx, flags.json);
        const counts = `${out.complete} complete, ${out.pruned > 0 ? `${out.pruned} pruned, ` : ''}${out.failed} failed`;
        human.write(
          out.interrupted
            ? `interrupted: ${counts}; rerun the same command to resume\n`
            : `study "${study}": ${counts}. Next: autopeft report --study ${study}${flags.storage !== DEFAULT_STORAGE ? ` --storage ${flags.storage}` : ''}\n`,
        );
        json({
          study,
          storage: storage.location,
          complete: out.complete,
          pruned: out.pruned,
          failed: out.failed,
          interrupted: out.interrupted,
        });
        if (out.interrupted) ctx.exitCode = stopSignal === 'SIGTERM' ? 143 : 130;
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
        bar.stop();
        await storage.close();
      }
    });
}
