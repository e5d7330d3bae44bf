import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { commandOutput } from '../json.js';
import { fmtNum } from '../progress.js';
import { flagParser, int, protocolRules } from '../options.js';
import { UsageError } from '../../core/errors.js';
import { type FollowupProtocol, frontTrials, retrainFront } from '../../pipeline/followup.js';
import { describePeft, type SerialAdapterForm } from '../../peft/config.js';
import { batchProgress } from '../batch-progress.js';
import { DEFAULT_STORAGE } from './search.js';
import { openStudy } from '../study.js';
import { addPresetFlag, fromPreset } from '../preset.js';
import { resolveMetric } from '../../pipeline/presets.js';
import { setupPeft } from '../../pipeline/attrs.js';
import { selectMetric } from '../../data/metrics.js';
import { getTask } from '../../train/trial.js';
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
  saForm?: SerialAdapterForm;
}

/** `--sa-form` of retrain, baselines and transfer: the configurations come from the study, not `--peft`. */
export function addSaFormFlag(cmd: Command): Command {
  return cmd.option(
    '--sa-form <houlsby|pfeiffer>',
    "serial adapter form of these runs (default: the study's)",
    flagParser('--sa-form', protocolRules.saForm),
  );
}

/**
 * The protocol flags as overrides of the study's settings: `--metric` resolved (a preset's per-task
 * metric) and checked against `task` before any training; a preset's fresh head left out on use-lite,
 * which has no pooler (the user's own `--head fresh` there is refused by the trial).
 */
export async function followupProtocol(
  cmd: Command,
  f: Pick<FollowFlags, 'metric' | 'head' | 'paramDenominator' | 'saForm'>,
  on: { task: string; dataDir?: string | undefined; model: string },
): Promise<FollowupProtocol> {
  const metric = f.metric === undefined ? undefined : resolveMetric(f.metric, on.task);
  const checked = metric === undefined ? undefined : selectMetric((await getTask(on.task, on.dataDir, 0)).info, metric);
  const head = on.model === 'use-lite' && fromPreset(cmd, 'head') ? undefined : f.head;
  return {
    ...(checked ? { metric: checked.mainMetric } : {}),
    ...(head !== undefined ? { head } : {}),
    ...(f.paramDenominator !== undefined ? { paramDenominator: f.paramDenominator } : {}),
    ...(f.saForm !== undefined ? { saForm: f.saForm } : {}),
  };
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
  addSaFormFlag(addTrainingFlags(cmd)).action(async (f: FollowFlags & { json?: boolean; quiet?: boolean }) => {
    const { storage, setup } = await openStudy(f);
    try {
      const protocol = await followupProtocol(cmd, f, setup);
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
        protocol,
      });
      events.stop();
      const { human, json } = commandOutput(ctx, f.json);
      human.write(
        `re-trained ${records.length} configuration(s) of "${f.study}" with ${f.seeds} seed(s), ${f.epochs} epoch(s); dev ${records[0]?.metricName ?? ''} mean ± std:\n`,
      );
      for (const r of records) {
        const t = front.find((x) => x.number === r.trial)!;
        human.write(
          `  trial ${String(r.trial).padStart(3)}  ${fmtNum(r.mean)} ± ${fmtNum(r.std)}  params ${fmtNum(r.paramPct)}%  ${describePeft(setupPeft(setup, t.config, protocol.saForm))}\n`,
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
