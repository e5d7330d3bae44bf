import type { PairEncoding } from '../../models/types.js';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { commandOutput } from '../json.js';
import { fmtNum } from '../progress.js';
import { int } from '../options.js';
import { frontTrials, transferFront } from '../../pipeline/followup.js';
import { describePeft } from '../../peft/config.js';
import { setupPeft } from '../../pipeline/attrs.js';
import { batchProgress } from '../batch-progress.js';
import { DEFAULT_STORAGE } from './search.js';
import { addTrainingFlags } from './train.js';
import {
  addSaFormFlag,
  fidelityOf,
  followupProtocol,
  hyperOf,
  MAX_SEEDS,
  seedCount,
  trialList,
  type FollowFlags,
} from './retrain.js';
import { openStudy } from '../study.js';
import { addPresetFlag } from '../preset.js';

/** `autopeft transfer`: a study's front configurations trained on another task. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('transfer')
    .description("train a study's Pareto-front configurations on another task and report their dev scores")
    .requiredOption('--study <name>', 'the search study to take the configurations from')
    .requiredOption('--task <name|spec.json>', 'the task to transfer to')
    .option('--data <dir>', "folder holding the target task files (default: the study's)")
    .option(
      '--storage <file.sqlite|postgres://...>',
      'SQLite file or PostgreSQL URL holding the studies',
      DEFAULT_STORAGE,
    )
    .option('--trials <list>', 'these trial numbers instead of the front', trialList)
    .option('--seeds <n>', `seeds per configuration (1..${MAX_SEEDS})`, seedCount(1), 1)
    .option('--workers <n>', 'trainings at once', int('--workers', 1), 1)
    .option('--pair-encoding <cross|siamese>', "the target task's pair encoding (default: the study's)")
    .option('--json', 'stdout: one JSON document {"study","task","results"}; human text to stderr')
    .option('--quiet', 'no progress output');
  addPresetFlag(cmd, 'transfer', ctx.stderr, 'task');
  addSaFormFlag(addTrainingFlags(cmd)).action(
    async (
      f: FollowFlags & { task: string; data?: string; pairEncoding?: string; json?: boolean; quiet?: boolean },
    ) => {
      const { storage, setup } = await openStudy(f);
      try {
        // --metric is the target task's (default: its main metric, not the study's).
        const protocol = await followupProtocol(cmd, f, {
          task: f.task,
          dataDir: f.data ?? setup.dataDir,
          model: setup.model,
        });
        const front = await frontTrials(storage, f.study, f.trials);
        const labels = front.flatMap((t) =>
          Array.from({ length: f.seeds }, (_, s) => `trial ${t.number} seed ${f.seed + s}`),
        );
        const events = batchProgress(ctx, 'transfer', labels.length, (i) => labels[i]!, f.quiet === true);
        const out = await transferFront({
          storage,
          study: f.study,
          task: f.task,
          ...(f.data !== undefined ? { dataDir: f.data } : {}),
          ...(f.pairEncoding !== undefined ? { pairEncoding: f.pairEncoding as PairEncoding } : {}),
          hyper: hyperOf(f),
          ...(fidelityOf(f) ? { fidelity: fidelityOf(f)! } : {}),
          seeds: f.seeds,
          workers: f.workers,
          events,
          ...(f.trials ? { trials: f.trials } : {}),
          ...(f.threads !== undefined ? { threadsPerWorker: f.threads } : {}),
          protocol,
        });
        events.stop();
        const { human, json } = commandOutput(ctx, f.json);
        human.write(
          `front of "${f.study}" (${setup.task}) transferred to ${f.task}; dev ${out[0]?.metricName ?? ''}:\n`,
        );
        for (const r of out) {
          human.write(
            `  trial ${String(r.trial).padStart(3)}  ${fmtNum(r.mean)}${r.values.length > 1 ? ` ± ${fmtNum(r.std)}` : ''}  (source ${fmtNum(r.sourceMetric)})  params ${fmtNum(r.paramPct)}%  ${describePeft(setupPeft(setup, r.config, protocol.saForm))}\n`,
          );
        }
        json({ study: f.study, task: f.task, results: out });
      } finally {
        await storage.close();
      }
    },
  );
}
