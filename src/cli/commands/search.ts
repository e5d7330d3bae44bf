import type { Command } from 'commander';
import { basename } from 'node:path';
import type { CliContext } from '../context.js';
import { createProgress, fmtDuration, fmtNum } from '../progress.js';
import { int, positive, sizeSpec } from '../options.js';
import { readConfigFile, type OptionKind } from '../config-file.js';
import { UsageError } from '../errors.js';
import { openSqliteStorage } from '../../storage/sqlite.js';
import { runSearch, type SearchEvent } from '../../pipeline/search.js';
import { SAMPLER_NAMES, type SamplerName } from '../../search/samplers/index.js';
import type { TrialSpec } from '../../train/trial.js';
import { hyperOf } from './train.js';

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
  seed: number;
  lora?: boolean;
  epochs: number;
  lr: number;
  batchSize: number;
  maxLength: number;
  maxSteps?: number;
  trainLimit?: { fraction?: number; count?: number };
  patience?: number;
  config?: string;
  quiet?: boolean;
}

const CONFIG_SCHEMA: Record<string, OptionKind> = {
  model: 'string',
  task: 'string',
  data: 'string',
  trials: 'int',
  nInit: 'int',
  batch: 'int',
  sampler: 'string',
  storage: 'string',
  study: 'string',
  workers: 'int',
  threads: 'int',
  seed: 'int',
  lora: 'boolean',
  epochs: 'int',
  lr: 'number',
  batchSize: 'int',
  maxLength: 'int',
  maxSteps: 'int',
  trainLimit: 'size',
  patience: 'int',
};

export function defaultStudyName(task: string, model: string, sampler: string): string {
  return `${basename(task).replace(/\.json$/, '')}-${basename(model)}-${sampler}`;
}

/** `autopeft search`: the AutoPEFT multi-objective search. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('search')
    .description('search PEFT configurations for the Pareto front of (validation score, % tunable parameters)')
    .option('--task <name|spec.json>', 'task (see `autopeft tasks`)')
    .option('--model <name|dir|hub id>', 'backbone: use-lite, a checkpoint folder or a hub id', 'use-lite')
    .option('--data <dir>', 'folder holding the task files')
    .option('--trials <n>', 'trials to run in total (a resumed study counts the ones it has)', int('--trials', 1), 40)
    .option('--n-init <k>', 'random configurations before Bayesian optimisation starts', int('--n-init', 1), 10)
    .option('--batch <q>', 'configurations proposed per sampler call', int('--batch', 1), 4)
    .option('--sampler <bo|nsga2|random>', 'search strategy', 'bo')
    .option('--lora', 'add a LoRA-rank dimension to the search space')
    .option('--storage <file.sqlite>', 'SQLite file holding the studies', DEFAULT_STORAGE)
    .option('--study <name>', 'study name (default: <task>-<model>-<sampler>); rerunning resumes it')
    .option('--workers <n>', 'trials trained at once, each in its own process', int('--workers', 1), 1)
    .option('--threads <n>', 'threads per trial (default: cores / workers)', int('--threads', 1))
    .option('--seed <n>', 'seed of the sampler and of every trial', int('--seed', 0), 0)
    .option('--epochs <n>', 'low-fidelity epochs per trial', int('--epochs', 1), 1)
    .option('--lr <x>', 'peak learning rate', positive('--lr'), 1e-3)
    .option('--batch-size <n>', 'examples per step', int('--batch-size', 1), 32)
    .option('--max-length <n>', 'longest input in tokens', int('--max-length', 4), 64)
    .option('--max-steps <n>', 'low fidelity: at most n steps per trial', int('--max-steps', 1))
    .option(
      '--train-limit <n|fraction>',
      'low fidelity: train each trial on a seeded subset',
      sizeSpec('--train-limit'),
    )
    .option('--patience <n>', 'early stopping patience in epochs', int('--patience', 1))
    .option('--config <file>', 'JSON or YAML file with any of these options (camelCase keys); flags win')
    .option('--quiet', 'no progress bar, one line per trial')
    .action(async (cli: SearchFlags, cmd: Command) => {
      const fromFile = cli.config ? readConfigFile(cli.config, CONFIG_SCHEMA) : {};
      // Flags typed on the command line win over the file; the file wins over defaults.
      const flags = { ...cli } as SearchFlags & Record<string, unknown>;
      for (const [k, v] of Object.entries(fromFile)) if (cmd.getOptionValueSource(k) !== 'cli') flags[k] = v;
      if (!flags.task) throw new UsageError('--task is required (or "task" in --config)');
      if (!(SAMPLER_NAMES as readonly string[]).includes(flags.sampler))
        throw new UsageError(`--sampler must be bo, nsga2 or random, got "${flags.sampler}"`);
      const sampler = flags.sampler as SamplerName;
      const hyper = hyperOf({ ...flags, maxSteps: undefined });
      const fidelity: NonNullable<TrialSpec['fidelity']> = {};
      if (flags.maxSteps !== undefined) fidelity.maxSteps = flags.maxSteps;
      if (flags.trainLimit?.count !== undefined) fidelity.trainCount = flags.trainLimit.count;
      else if (flags.trainLimit?.fraction !== undefined) fidelity.trainFraction = flags.trainLimit.fraction;
      const study = flags.study ?? defaultStudyName(flags.task, flags.model, sampler);
      const storage = openSqliteStorage(flags.storage);
      const bar = createProgress({
        label: 'search',
        total: flags.trials,
        quiet: flags.quiet === true,
        stream: ctx.stderr as NodeJS.WriteStream,
        plainEverySec: 30,
      });
      const controller = new AbortController();
      let sigints = 0;
      const onSigint = () => {
        sigints++;
        if (sigints > 1) process.exit(130);
        bar.log('stopping: running trials are re-queued for the next run (Ctrl-C again to quit at once)');
        controller.abort();
      };
      process.on('SIGINT', onSigint);
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
                : `new study "${study}" in ${flags.storage}: ${sampler}, ${e.total} trials, ${flags.workers} worker(s)`,
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
          hyper,
          ...(Object.keys(fidelity).length > 0 ? { fidelity } : {}),
          workers: flags.workers,
          ...(flags.threads !== undefined ? { threadsPerWorker: flags.threads } : {}),
          onEvent,
          signal: controller.signal,
        });
        bar.stop();
        ctx.stdout.write(
          out.interrupted
            ? `interrupted: ${out.complete} complete, ${out.failed} failed; rerun the same command to resume\n`
            : `study "${study}": ${out.complete} complete, ${out.failed} failed. Next: autopeft report --study ${study}${flags.storage !== DEFAULT_STORAGE ? ` --storage ${flags.storage}` : ''}\n`,
        );
        if (out.interrupted) ctx.exitCode = 130;
      } finally {
        process.off('SIGINT', onSigint);
        bar.stop();
        await storage.close();
      }
    });
}
