import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { commandOutput } from '../json.js';
import { fmtNum } from '../progress.js';
import { int } from '../options.js';
import { defaultBaselines, runBaselines } from '../../pipeline/followup.js';
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
  type FollowFlags,
} from './retrain.js';
import { openStudy } from '../study.js';
import { addPresetFlag } from '../preset.js';

/** `autopeft baselines`: single-method baselines on the same plot as a study. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('baselines')
    .description(
      "train single-method baselines (SA, PA, PT, LoRA at two sizes; full FT with --full-ft) like a study's trials, and with --seeds also at full fidelity on the dev set",
    )
    .requiredOption('--study <name>', 'search study whose task, model and fidelity to use (results are stored on it)')
    .option(
      '--storage <file.sqlite|postgres://...>',
      'SQLite file or PostgreSQL URL holding the studies',
      DEFAULT_STORAGE,
    )
    .option(
      '--seeds <n>',
      `full-fidelity seeds per baseline on the dev set (0..${MAX_SEEDS}; 0: search fidelity only)`,
      seedCount(0),
      0,
    )
    .option('--full-ft', 'include full fine-tuning')
    .option('--workers <n>', 'trainings at once', int('--workers', 1), 1)
    .option('--json', 'stdout: one JSON document {"study","baselines"}; human text to stderr')
    .option('--quiet', 'no progress output');
  addPresetFlag(cmd, 'baselines', ctx.stderr);
  addSaFormFlag(addTrainingFlags(cmd)).action(
    async (f: FollowFlags & { fullFt?: boolean; json?: boolean; quiet?: boolean }) => {
      const { storage, setup } = await openStudy(f);
      try {
        // The protocol flags apply to the full-fidelity runs; the search-fidelity ones train as the study's trials did.
        const protocol = await followupProtocol(cmd, f, setup);
        const baselines = defaultBaselines(setup.hidden, f.fullFt === true);
        const labels = [
          ...baselines.map((b) => `${b.method} (search fidelity)`),
          ...baselines.flatMap((b) => Array.from({ length: f.seeds }, (_, s) => `${b.method} seed ${f.seed + s}`)),
        ];
        const events = batchProgress(ctx, 'baselines', labels.length, (i) => labels[i]!, f.quiet === true);
        const records = await runBaselines({
          storage,
          study: f.study,
          hyper: hyperOf(f),
          ...(fidelityOf(f) ? { fidelity: fidelityOf(f)! } : {}),
          seeds: f.seeds,
          workers: f.workers,
          baselines,
          events,
          ...(f.threads !== undefined ? { threadsPerWorker: f.threads } : {}),
          protocol,
        });
        events.stop();
        const { human, json } = commandOutput(ctx, f.json);
        human.write(`baselines for "${f.study}" (${setup.task}, ${setup.model}):\n`);
        for (const r of records) {
          const dev = r.devValues
            ? `  dev ${fmtNum(r.devValues.reduce((a, b) => a + b, 0) / r.devValues.length)} (${r.devValues.length} seeds)`
            : '';
          human.write(
            `  ${r.method.padEnd(8)} params ${fmtNum(r.paramPct).padStart(8)}%  validation ${r.metricName} ${fmtNum(r.metric)}${dev}\n`,
          );
        }
        json({ study: f.study, baselines: records });
      } finally {
        await storage.close();
      }
    },
  );
}
