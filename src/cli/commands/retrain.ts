import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { commandOutput } from '../json.js';
import { fmtNum } from '../progress.js';
import { int } from '../options.js';
import { UsageError } from '../../core/errors.js';
import { frontTrials, retrainFront } from '../../pipeline/followup.js';
import { describePeft } from '../../peft/config.js';
import { peftFromSearch } from '../../search/space/autopeft.js';
import { batchProgress } from '../batch-progress.js';
import { DEFAULT_STORAGE } from './search.js';
import { openStudy } from '../study.js';
import { addPresetFlag } from '../preset.js';
import { addTrainingFlags, fidelityOf, hyperOf, type TrainFlags } from './train.js';

export { hyperOf, fidelityOf };

/** Most seeds per configuration `retrain`, `baselines` and `transfer` take (each seed is a full training). */
export const MAX_SEEDS = 100;

/** `--seeds`: an integer in min..MAX_SEEDS. */
export function seedCount(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(n) || n < min || n > MAX_SEEDS)
      throw new UsageError(`--seeds takes an integer in ${min}..${MAX_SEEDS}, got "${v}"`);
    return n;
  };
}

export function trialList(v: string): number[] {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isInteger(x) || x < 0))
    throw new UsageError(`--trials takes trial numbers like 3,7,12; got "${v}"`);
  return xs;
}

export interface FollowFlags extends TrainFlags {
  study: string;
  storage: string;
  seeds: number;
  trials?: number[];
  workers: number;
}

/** `autopeft retrain`: the front at full fidelity with several seeds, mean ± std on the dev set. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('retrain')
    .description(
      "re-train a study's Pareto front (or chosen trials) at full fidelity with several seeds; report mean ± std on the official dev set",
    )
    .requiredOption('--study <name>', 'search study')
    .option(
      '--storage <file.sqlite|postgres://...>',
      'SQLite file or PostgreSQL URL holding the studies',
      DEFAULT_STORAGE,
    )
    .option('--front', 'the Pareto front (the default)')
    .option('--trials <list>', 'these trial numbers instead of the front, e.g. 3,7,12', trialList)
    .option('--seeds <n>', `seeds per configuration (1..${MAX_SEEDS})`, seedCount(1), 5)
    .option('--workers <n>', 'trainings at once, each in its own process', int('--workers', 1), 1)
    .option(
      '--json',
      'stdout: one JSON document {"study","results":[{"trial","config","paramPct","mean","std","values"}]}; human text to stderr',
    )
    .option('--quiet', 'no progress output');
  addPresetFlag(cmd, 'retrain', ctx.stderr);
  addTrainingFlags(cmd).action(async (f: FollowFlags & { json?: boolean; quiet?: boolean }) => {
    const { storage, setup } = await openStudy(f);
    try {
      const front = await frontTrials(storage, f.study, f.trials);
      const labels = front.flatMap((t) =>
        Array.from({ length: f.seeds }, (_, s) => `trial ${t.number} seed ${f.seed + s}`),
      );
      const events = batchProgress(ctx, 'retrain', labels.length, (i) => labels[i]!, f.quiet === true);
      const records = await retrainFront({
        storage,
        study: f.study,
        hyper: hyperOf(f),
        ...(fidelityOf(f) ? { fidelity: fidelityOf(f)! } : {}),
        seeds: f.seeds,
        workers: f.workers,
        ...(f.threads !== undefined ? { threadsPerWorker: f.threads } : {}),
        events,
        ...(f.trials ? { trials: f.trials } : {}),
      });
      events.stop();
      const { human, json } = commandOutput(ctx, f.json);
      human.write(
        `re-trained ${records.length} configuration(s) of "${f.study}" with ${f.seeds} seed(s), ${f.epochs} epoch(s); dev ${records[0]?.metricName ?? ''} mean ± std:\n`,
      );
      for (const r of records) {
        const t = front.find((x) => x.number === r.trial)!;
        human.write(
          `  trial ${String(r.trial).padStart(3)}  ${fmtNum(r.mean)} ± ${fmtNum(r.std)}  params ${fmtNum(r.paramPct)}%  ${describePeft(peftFromSearch(t.config, setup.numLayers))}\n`,
        );
      }
      json({
        study: f.study,
        results: records.map((r) => ({ ...r, config: front.find((x) => x.number === r.trial)!.config })),
      });
    } finally {
      await storage.close();
    }
  });
}
